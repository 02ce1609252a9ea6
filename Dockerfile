# syntax=docker/dockerfile:1
# guichet in a container: the gateway (`guichet server`), with nats-server inside for the
# embedded default (no --nats) and for a one-container try; deploy/compose.yaml runs it
# against a separate 3-node NATS cluster instead. docs/operations.md, "Containers".
ARG NODE_VERSION=22
ARG NATS_VERSION=2.12

# nats-server's static binary, from the official image (2.12+: atomic batch publish).
FROM nats:${NATS_VERSION} AS nats

# Build: every dependency (TypeScript included), the compiled src/ only, then the dev
# dependencies dropped.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: `prepare` would build before the sources are here.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY src ./src
RUN npx tsc -p . && chmod 755 dist/src/cli/main.js && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    GUICHET_HOST=0.0.0.0 \
    GUICHET_HTTP=0.0.0.0:9464 \
    GUICHET_LOG_FORMAT=json \
    GUICHET_DATA=/data
WORKDIR /app
COPY --from=nats /nats-server /usr/local/bin/nats-server
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json nats.conf nats-roles.conf ./
# The image's own unprivileged user (uid 1000). /data holds the embedded NATS's log and the
# keys; /shared/secrets is where deploy/compose.yaml's volume of keys is mounted (a new volume
# takes the owner of the directory it is mounted on).
RUN mkdir -p /data /shared/secrets && chown -R node:node /data /shared
USER node
VOLUME ["/data"]
# 12345: clients (TCP); 9464: /metrics, /healthz, /readyz (HTTP).
EXPOSE 12345 9464
# No curl in the slim image: Node's own fetch asks /healthz (the process answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["server"]
