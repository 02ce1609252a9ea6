/**
 * The container files, checked as far as this machine allows: no container engine runs here
 * (and no registry serves base images), so the image is not built. Instead: the Dockerfile is
 * multi-stage, ends as a non-root user, carries nats-server 2.12+ and copies only files that
 * exist; deploy/compose.yaml parses and runs three NATS nodes in one cluster and two gateways
 * on all three; the NATS node configuration passes `nats-server -t`; Prometheus scrapes the
 * gateways' --http port; the alerts and the Grafana dashboard name only metrics a gateway has.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Metrics } from '../../src/ops/metrics.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

type Service = { image?: string; build?: unknown; command?: string[]; ports?: string[]; environment?: Record<string, string>; entrypoint?: string[]; volumes?: string[]; user?: string };
const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, Service> };

test('the Dockerfile: multi-stage, nats-server 2.12+ inside, non-root at the end, the files it copies exist', () => {
  const lines = read('Dockerfile').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const froms = lines.filter((l) => l.startsWith('FROM '));
  assert.ok(froms.length >= 3, 'a nats stage, a build stage and the runtime');
  const natsVersion = /ARG NATS_VERSION=(\d+)\.(\d+)/.exec(read('Dockerfile'));
  assert.ok(natsVersion && (Number(natsVersion[1]) > 2 || Number(natsVersion[2]) >= 12), 'nats-server 2.12 or later');
  const last = lines.slice(lines.lastIndexOf(froms.at(-1)!));
  const user = last.filter((l) => l.startsWith('USER ')).at(-1);
  assert.is(user, 'USER node');
  assert.ok(last.some((l) => l.startsWith('COPY --from=nats /nats-server')), 'nats-server in the runtime image');
  assert.ok(last.some((l) => /^EXPOSE 12345 9464$/.test(l)));
  for (const l of lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
    for (const file of l.split(/\s+/).slice(1, -1)) assert.ok(existsSync(join(ROOT, file)), `${file} exists`);
  }
  assert.ok(existsSync(join(ROOT, 'dist/src/cli/main.js')), 'the entry point the image runs is what the build makes');
  assert.match(read('Dockerfile'), /ENTRYPOINT \["node", "\/app\/dist\/src\/cli\/main\.js"\]/);
});

test('compose: three NATS 2.12+ nodes, one cluster; two gateways on all three nodes with R3, probes and metrics on 9464', () => {
  const s = compose.services;
  for (const n of ['n1', 'n2', 'n3']) {
    assert.match(s[n]!.image!, /^nats:2\.(1[2-9]|[2-9]\d)/, `${n} runs nats-server 2.12+`);
    assert.is(s[n]!.environment!['NATS_NAME'], n);
    assert.ok(s[n]!.volumes!.includes(`${n}:/data`), `${n} keeps its store in its own volume`);
    assert.match(s[n]!.entrypoint!.join(' '), /nats-server -c \/etc\/nats\/nats\.conf/);
  }
  const routes = read('deploy/compose/nats.conf').match(/nats:\/\/n\d:6222/g);
  assert.equal(routes, ['nats://n1:6222', 'nats://n2:6222', 'nats://n3:6222']);
  for (const [g, port] of [['gateway1', '12345'], ['gateway2', '12346']] as const) {
    const gw = s[g]!;
    assert.is(gw.image, 'guichet:latest');
    assert.ok(gw.build, `${g} is built from the Dockerfile`);
    assert.is(gw.command![0], 'server');
    const nats = gw.command![gw.command!.indexOf('--nats') + 1]!;
    assert.equal(nats.split(',').map((u) => u.replace(/^nats:\/\/(n\d):4222$/, '$1')).sort(), ['n1', 'n2', 'n3']);
    assert.is(gw.environment!['GUICHET_REPLICAS'], '3');
    assert.is(gw.environment!['GUICHET_HTTP'], '0.0.0.0:9464');
    assert.ok(gw.ports!.includes(`${port}:12345`));
  }
  assert.match(s['keys']!.entrypoint!.join(' '), /nats-keys --data \/shared > \/shared\/secrets\/nats-keys\.env/);
});

test("the compose NATS node's configuration passes nats-server -t, with keys as `keys` makes them", () => {
  const dir = mkdtempSync(join(tmpdir(), 'guichet-compose-conf-'));
  try {
    copyFileSync(join(ROOT, 'deploy/compose/nats.conf'), join(dir, 'nats.conf'));
    copyFileSync(join(ROOT, 'nats-roles.conf'), join(dir, 'nats-roles.conf'));
    const exports = execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'nats-keys', '--data', join(dir, 'keys')], { encoding: 'utf8' });
    const env: Record<string, string> = { ...process.env, NATS_NAME: 'n1' } as Record<string, string>;
    for (const m of exports.matchAll(/^export (\w+)=(\S+)$/gm)) env[m[1]!] = m[2]!.replace(/^'|'$/g, '');
    const run = spawnSync('nats-server', ['-t', '-c', join(dir, 'nats.conf')], { env, encoding: 'utf8' });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout + run.stderr, /is valid/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every metric name an expression uses, that guichet itself would export. */
function metricNames(expressions: string[]): string[] {
  const names = new Set<string>();
  for (const e of expressions) for (const m of e.matchAll(/\b((?:guichet|process|nodejs)_[a-z0-9_]+)/g)) names.add(m[1]!.replace(/_(bucket|sum|count)$/, ''));
  return [...names];
}

test('Prometheus scrapes both gateways on 9464; the alerts and the dashboard name only metrics a gateway exports', async () => {
  const prometheus = parse(read('deploy/monitoring/prometheus.yml')) as { scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }> };
  const job = prometheus.scrape_configs[0]!;
  assert.is(job.metrics_path, '/metrics');
  assert.equal(job.static_configs[0]!.targets, ['gateway1:9464', 'gateway2:9464']);
  const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const alerts = parse(read('deploy/monitoring/alerts.yml')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
  const dashboard = JSON.parse(read('deploy/monitoring/grafana-dashboard.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  const used = metricNames([...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)), ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))]);
  assert.ok(used.length >= 10, `names found: ${used.join(', ')}`);
  for (const name of used) assert.ok(exported.has(name), `${name} is exported`);
});

test.run();
