#!/usr/bin/env node
/** The `guichet` command: the server, and the clients of its wire protocol. */
import { Command, CommanderError } from 'commander';
import { clientOptions, clientTlsOptions, serverOptions, type ServerConfig } from '../config.js';
import { auditCommand } from './audit.js';
import { tailCommand } from './tail.js';
import { ServerError } from './client.js';
import * as oneshot from './oneshot.js';
import { UsageError, clientTls, type ClientFlags, type TlsFlags } from './oneshot.js';
import { runServer } from './server.js';

const program = new Command('guichet')
  .description('Concert seat reservation over TCP (event-sourced on NATS JetStream)')
  .version('0.1.0')
  .showHelpAfterError();

const server = program.command('server').description('run a gateway (and an embedded nats-server unless --nats is given)');
for (const option of serverOptions()) server.addOption(option);
server.action((opts: ServerConfig) => runServer(opts));

function clientCommand(name: string, description: string): Command {
  const cmd = program.command(name).description(description);
  for (const option of clientOptions()) cmd.addOption(option);
  return cmd;
}

clientCommand('concerts', 'list the concerts and their free seats')
  .alias('list')
  .action((flags: ClientFlags) => oneshot.concerts(flags));

clientCommand('seats', 'show the seat map of a concert')
  .argument('<concert>', 'concert id (see `guichet concerts`)')
  .action((concert: string, flags: ClientFlags) => oneshot.seats(flags, concert));

clientCommand('book', 'hold and book a seat at once')
  .argument('<concert>', 'concert id')
  .argument('<seat>', 'seat number')
  .requiredOption('--first <name>', 'first name')
  .requiredOption('--last <name>', 'last name')
  .action((concert: string, seat: string, flags: ClientFlags & { first: string; last: string }) =>
    oneshot.book(flags, concert, seat, { first: flags.first, last: flags.last }),
  );

clientCommand('lookup', 'show a booking')
  .argument('<reference>', '10-digit booking reference')
  .requiredOption('--last <name>', 'last name on the booking')
  .action((reference: string, flags: ClientFlags & { last: string }) => oneshot.lookup(flags, reference, flags.last));

clientCommand('cancel', 'cancel a booking; its seat is free again')
  .argument('<reference>', '10-digit booking reference')
  .requiredOption('--last <name>', 'last name on the booking')
  .action((reference: string, flags: ClientFlags & { last: string }) => oneshot.cancel(flags, reference, flags.last));

clientCommand('watch', 'follow the seat changes of a concert live')
  .argument('<concert>', 'concert id')
  .action((concert: string, flags: ClientFlags) => oneshot.watch(flags, concert));

// Readers of the event log itself (NATS, not the gateway).
program.addCommand(auditCommand());
program.addCommand(tailCommand());

async function interactive(address: string, port: string, flags: TlsFlags = {}): Promise<void> {
  const { runInteractive } = await import('./interactive.js');
  const tls = clientTls(flags);
  process.exitCode = await runInteractive({ host: address, port, ...(tls ? { tls } : {}) });
}

const defaultHost = process.env['GUICHET_HOST'] || '127.0.0.1';
const defaultPort = process.env['GUICHET_PORT'] || '12345';

const clientCmd = program
  .command('client')
  .description('the interactive client, also run by `guichet` alone: book and cancel seats on a live seat map (see its help screen: h)')
  .argument('[address]', 'gateway address (env GUICHET_HOST)', defaultHost)
  .argument('[port]', 'gateway port (env GUICHET_PORT)', defaultPort);
for (const option of clientTlsOptions()) clientCmd.addOption(option);
clientCmd.action((address: string, port: string, flags: TlsFlags) => interactive(address, port, flags));

// `guichet` alone is the interactive client; `guichet conerts` is a typo, not an address.
program.allowExcessArguments(true).action(() => {
  const [word] = program.args;
  if (word !== undefined) program.error(`error: unknown command '${word}' (see guichet --help; to connect elsewhere: guichet client <address> <port>)`);
  return interactive(defaultHost, defaultPort, { tls: Boolean(process.env['GUICHET_TLS']), tlsCa: process.env['GUICHET_TLS_CA'] || undefined });
});

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof ServerError) {
    process.stderr.write(`error: ${err.code}: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof UsageError || err instanceof Error) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  throw err;
}
