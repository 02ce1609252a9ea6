#!/usr/bin/env node
/**
 * The `guichet` command: the server, and the clients of its wire protocol.
 *
 * Exit status, one rule for every command: 0 done; 1 refused or failed (the server said no,
 * it cannot be reached, an audit found a violation); 2 a usage error (an unknown command or
 * flag, a missing or malformed argument); 128 + n when ended by signal n (Ctrl-C: 130).
 * With --json, an error is also written on stdout as {"error": {"code": …, "message": …}}.
 */
import { Command, CommanderError, Option } from 'commander';
import { clientOptions, clientTlsOptions, serverOptions, type ServerConfig } from '../config.js';
import { auditCommand } from './audit.js';
import { tailCommand } from './tail.js';
import { natsKeysCommand, upgradeStreamCommand } from './admin.js';
import * as oneshot from './oneshot.js';
import { UsageError, clientTls, type ClientFlags, type TlsFlags } from './oneshot.js';
import { runServer } from './server.js';
import { errorJson, errorText, exitStatusOf } from './errors.js';

const program = new Command('guichet')
  .description('Concert seat reservation over TCP (event-sourced on NATS JetStream)')
  .version('0.1.0')
  // The error alone, not the whole help after it (which scrolled the error away).
  .showHelpAfterError('(add --help for usage)')
  .helpCommand('help [command]', 'show the help of a command')
  .exitOverride();

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

clientCommand('book', 'hold and book seats at once, all under one reference (all or none)')
  .argument('<concert>', 'concert id')
  .argument('[seats...]', 'seat numbers or labels (42, B7); omit with --best')
  .option('--best <n>', 'let the server choose the best n adjacent seats in one row')
  .requiredOption('--first <name>', 'first name')
  .requiredOption('--last <name>', 'last name')
  .action((concert: string, seats: string[], flags: ClientFlags & { first: string; last: string; best?: string }) =>
    oneshot.book(flags, concert, { seats, best: flags.best }, { first: flags.first, last: flags.last }),
  );

clientCommand('lookup', 'show a booking')
  .argument('<reference>', '10-digit booking reference')
  .requiredOption('--last <name>', 'last name on the booking')
  .action((reference: string, flags: ClientFlags & { last: string }) => oneshot.lookup(flags, reference, flags.last));

clientCommand('cancel', 'cancel a booking; all its seats are free again')
  .argument('<reference>', '10-digit booking reference')
  .requiredOption('--last <name>', 'last name on the booking')
  .action((reference: string, flags: ClientFlags & { last: string }) => oneshot.cancel(flags, reference, flags.last));

clientCommand('watch', 'follow the seats of a concert live (Ctrl-C to stop)')
  .argument('<concert>', 'concert id')
  .action(async (concert: string, flags: ClientFlags) => (await import('./watch.js')).watch(flags, concert));

// Readers of the event log itself (NATS, not the gateway) and NATS administration, with the
// program's error handling.
for (const cmd of [auditCommand(), tailCommand(), upgradeStreamCommand(), natsKeysCommand()]) program.addCommand(cmd.copyInheritedSettings(program));

async function interactive(host: string, port: string, flags: TlsFlags & { keepalive?: string } = {}): Promise<void> {
  const { runInteractive } = await import('./interactive.js');
  const tls = clientTls(flags);
  process.exitCode = await runInteractive({ host, port, ...(tls ? { tls } : {}), ...(flags.keepalive !== undefined ? { keepalive: flags.keepalive } : {}) });
}

const defaultHost = process.env['GUICHET_HOST'] || '127.0.0.1';
const defaultPort = process.env['GUICHET_PORT'] || '12345';

const clientCmd = program
  .command('client')
  .description('the interactive client, also run by `guichet` alone: book and cancel seats on a live seat map (see its help screen: h)')
  .argument('[address]', 'gateway address, or address:port (env GUICHET_HOST)')
  .argument('[port]', 'gateway port (env GUICHET_PORT)')
  .addOption(new Option('--host <address>', 'gateway address (as the first argument)'))
  .addOption(new Option('--port <port>', 'gateway port (as the second argument)'))
  .addOption(new Option('--keepalive <seconds>', "send a PING this often while you think, so the gateway's idle timeout does not close the connection (0: never; default 30)").env('GUICHET_KEEPALIVE'));
for (const option of clientTlsOptions()) clientCmd.addOption(option);
clientCmd.action((address: string | undefined, port: string | undefined, flags: TlsFlags & { host?: string; port?: string; keepalive?: string }) => {
  const where = clientAddress(address ?? flags.host, port ?? flags.port);
  return interactive(where.host, where.port, flags);
});

/** `client 10.0.0.5 12345`, `client 10.0.0.5:12345`, `client --host … --port …`, or the defaults. */
function clientAddress(address: string | undefined, port: string | undefined): { host: string; port: string } {
  const m = address === undefined ? null : /^(.*):(\d+)$/.exec(address);
  if (m && !m[1]!.includes(':')) {
    if (port !== undefined) throw new UsageError(`the port is given twice: ${address} and ${port}`);
    return { host: m[1]!, port: m[2]! };
  }
  return { host: address ?? defaultHost, port: port ?? defaultPort };
}

// `guichet` alone is the interactive client; `guichet conerts` is a typo, not an address.
program.allowExcessArguments(true).action(() => {
  const [word] = program.args;
  if (word !== undefined) throw new UsageError(`unknown command '${word}' (see guichet --help; to connect elsewhere: guichet client <address> <port>)`);
  return interactive(defaultHost, defaultPort, {
    tls: Boolean(process.env['GUICHET_TLS']),
    tlsCa: process.env['GUICHET_TLS_CA'] || undefined,
    keepalive: process.env['GUICHET_KEEPALIVE'] || undefined,
  });
});

const json = process.argv.includes('--json');
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed the message (or the help, or the version) already.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(err.exitCode);
    if (json) process.stdout.write(`${errorJson(err)}\n`);
    process.exit(2);
  }
  if (!(err instanceof Error)) throw err;
  if (json) process.stdout.write(`${errorJson(err)}\n`);
  process.stderr.write(`error: ${errorText(err)}\n`);
  process.exit(exitStatusOf(err));
}
