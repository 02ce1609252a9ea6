/**
 * Operations commands: `upgrade-stream` (with admin rights, bring existing streams to the
 * settings this guichet needs: the gateway role may not update a stream) and `nats-keys`
 * (the embedded default's keys, to run nats.conf or deploy/nats-cluster by hand).
 */
import { Command } from 'commander';
import type { StreamConfig } from '@nats-io/jetstream';
import { EventStore } from '../events/store.js';
import { ensureSnapshotStream } from '../events/snapshots.js';
import { SERVER_DEFAULTS } from '../config.js';
import { connectNats, natsOptions, type ReaderFlags } from './audit.js';
import { ensureEmbeddedSecrets, publicKeyEnvironment } from './embedded-secrets.js';

export function upgradeStreamCommand(): Command {
  const command = new Command('upgrade-stream')
    .description("with admin credentials (default: the embedded NATS's admin key under --data): update the TICKETS streams in place to the settings this guichet needs")
    .action((flags: ReaderFlags) => upgradeStreams(flags));
  for (const option of natsOptions()) command.addOption(option);
  return command;
}

async function upgradeStreams(flags: ReaderFlags): Promise<void> {
  const nc = await connectNats(flags, 'guichet upgrade-stream', 'admin');
  try {
    const store = await EventStore.open(nc);
    const update = async (config: StreamConfig) => {
      await store.jsm.streams.update(config.name, config);
      process.stdout.write(`stream ${config.name} updated\n`);
    };
    await store.ensureStream({ update });
    await ensureSnapshotStream(store, 1, update);
    process.stdout.write('the streams have the settings this guichet needs\n');
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export function natsKeysCommand(): Command {
  return new Command('nats-keys')
    .description("print the embedded NATS's users' public keys as shell variables for nats.conf (making the keys under --data if missing)")
    .option('--data <dir>', 'data directory', process.env['GUICHET_DATA'] ?? SERVER_DEFAULTS.data)
    .action(async (flags: { data: string }) => {
      const secrets = await ensureEmbeddedSecrets(flags.data);
      for (const [name, value] of Object.entries(publicKeyEnvironment(secrets))) process.stdout.write(`export ${name}=${value}\n`);
    });
}
