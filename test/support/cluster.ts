/**
 * A real 3-node NATS cluster with JetStream on loopback, on free ports, for the scale-out
 * tests. Each node can be killed (SIGKILL) and started again on its own store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { track } from './children.js';
import { freePort, waitForPort } from './net.js';

export interface ClusterNode {
  name: string;
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  readonly running: boolean;
}

export interface TestCluster {
  nodes: ClusterNode[];
  /** Every node's URL, comma-separated (what a gateway is given to fail over). */
  urls: string;
  stop(): Promise<void>;
}

export async function startCluster(size = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'guichet-cluster-'));
  const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(', ');
  const nodes: ClusterNode[] = [];
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
      ].join('\n'),
    );
    let proc: ChildProcess | undefined;
    const port = clientPorts[i]!;
    nodes.push({
      name,
      url: `nats://127.0.0.1:${port}`,
      get running() {
        return proc !== undefined && proc.exitCode === null;
      },
      async start() {
        proc = track(spawn('nats-server', ['-c', config], { stdio: 'ignore' }));
        await waitForPort(port, 10_000);
      },
      async kill() {
        const p = proc;
        proc = undefined;
        if (!p || p.exitCode !== null) return;
        const gone = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGKILL');
        await gone;
      },
    });
  }
  await Promise.all(nodes.map((n) => n.start()));
  await waitForMetaLeader(nodes.map((n) => n.url).join(','));
  return {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** JetStream in a cluster answers once its meta group has a leader, and places R3 streams once all peers joined. */
async function waitForMetaLeader(servers: string): Promise<void> {
  const nc = await connect({ servers: servers.split(','), maxReconnectAttempts: -1 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        // jetstreamManager() itself asks for the account info: it fails until there is a leader.
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        // A leader is not enough for an R3 stream: every peer must have joined. Probe with one.
        await jsm.streams.add({ name: 'CLUSTER_PROBE', subjects: ['cluster.probe'], num_replicas: servers.split(',').length, storage: StorageType.Memory });
        await jsm.streams.delete('CLUSTER_PROBE');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}
