/**
 * A real 3-node NATS cluster with JetStream on loopback, on free ports, for the scale-out
 * tests. Each node can be killed (SIGKILL) and started again on its own store.
 * Authentication is on with guichet's roles, as on a single test server (./nats.ts): each
 * node's `url` and `urls` carry the gateway's credentials.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '../../src/nats-connection.js';
import { authorizationLines, launchNatsServer, rolePasswords, withUser, type LaunchedNatsServer, type Role } from './nats.js';
import { freePort } from './net.js';

export interface ClusterNode {
  name: string;
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  readonly running: boolean;
  /** The last lines this node logged. */
  log(): string;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** Every node's URL, comma-separated, with the gateway's credentials (what a gateway is given to fail over). */
  urls: string;
  /** The same with another role's credentials. */
  urlsFor(role: Role): string;
  /** Every node's last log lines, for a failure's message. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts the cluster; tries again on fresh ports when a node cannot start (a port picked as
 * free can be taken before the node binds it, e.g. as another node's outgoing route port).
 */
export async function startCluster(size = 3, attempts = 3): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await configureCluster(size);
    try {
      await Promise.all(cluster.nodes.map((n) => n.start()));
      await waitForStreamPlacement(cluster.urlsFor('admin'), size);
      return cluster;
    } catch (err) {
      await cluster.stop();
      if (attempt >= attempts) throw err;
      console.error(`  (cluster start ${attempt} failed, trying again on new ports: ${(err as Error).message.split('\n')[0]})`);
    }
  }
}

/** The cluster's nodes, configured on free ports and not started (`startCluster` starts them). */
export async function configureCluster(size: number): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-cluster-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(', ');
  const nodes: ClusterNode[] = [];
  const passwords = rolePasswords();
  const auth = await authorizationLines(dir, passwords);
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const store = join(dir, name);
    await mkdir(store, { recursive: true });
    const config = join(dir, `${name}.conf`);
    await writeFile(
      config,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${clientPorts[i]}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: guichet-test, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes}] }`,
        ...auth,
      ].join('\n'),
    );
    let server: LaunchedNatsServer | undefined;
    let lastLog = '';
    const port = clientPorts[i]!;
    nodes.push({
      name,
      url: withUser(`nats://127.0.0.1:${port}`, 'gateway', passwords),
      get running() {
        return server !== undefined && server.child.exitCode === null;
      },
      log: () => server?.log() ?? lastLog,
      async start() {
        server = await launchNatsServer(config, port);
      },
      async kill() {
        const s = server;
        server = undefined;
        if (!s) return;
        lastLog = s.log();
        if (s.child.exitCode !== null || s.child.signalCode !== null) return;
        const gone = new Promise<void>((r) => s.child.once('exit', () => r()));
        s.child.kill('SIGKILL');
        await gone;
      },
    });
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    urlsFor: (role) => withUser(clientPorts.map((p) => `nats://127.0.0.1:${p}`).join(','), role, passwords),
    logs: () => nodes.map((n) => `--- ${n.name} (${n.url}) ---\n${n.log()}`).join('\n'),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * JetStream in a cluster answers once its meta group has a leader, and can place an R3 file
 * stream (what the gateways will ask for) only once every peer has joined and reported.
 * Probe with exactly such a stream.
 */
async function waitForStreamPlacement(servers: string, replicas: number): Promise<void> {
  const nc = await connectNats(servers, {}, { maxReconnectAttempts: -1 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        // jetstreamManager() itself asks for the account info: it fails until there is a leader.
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        await jsm.streams.add({ name: 'CLUSTER_PROBE', subjects: ['cluster.probe'], num_replicas: replicas, storage: StorageType.File });
        await jsm.streams.delete('CLUSTER_PROBE');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the cluster could not place an R${replicas} stream within 30 s: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
