// The `switchyard` command. Every command returns an exit code (exit-codes.ts); errors are
// printed once, redacted, as text or (with --json) as one JSON object on stdout.

import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { adminCommand } from './commands/admin.js';
import { bridgeCommand } from './commands/bridge.js';
import { doctorCommand } from './commands/doctor.js';
import { emulatorCommand } from './commands/emulator.js';
import { receiveCommand } from './commands/receive.js';
import { relayCommand } from './commands/relay.js';
import { sendCommand } from './commands/send.js';
import { ExitCode, exitCodeFor, UsageError } from './exit-codes.js';
import { EXIT_CODES_HELP, PASSWORD_FILE_HELP, TARGET_HELP } from './help-text.js';
import { errorText, type Io, line, processIo } from './output.js';
import { resolveTarget } from './secrets.js';
import type { TargetContext } from './target.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number > 0');
  return n;
}

/** `--url`, else $SWITCHYARD_URL (read here, not as a default, so help never prints a password). */
function targetUrl(given: string | undefined): string {
  const url = given ?? process.env.SWITCHYARD_URL;
  if (url === undefined || url === '') throw new UsageError('--url is required (or set SWITCHYARD_URL)');
  return url;
}

/**
 * Runs the `switchyard` command in this process: `argv` without the node and script paths (e.g.
 * `['send', '--url', 'memory://', '-d', 'jobs', 'hello']`), output to `io`. Resolves with the
 * exit code (ExitCode) instead of exiting, so it can be embedded and tested.
 */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = ExitCode.OK;
  let json = false;
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      line(io.stderr, `switchyard: ${signal}: stopping cleanly (again to force)`);
      interrupt.abort();
    } else process.exit(ExitCode.INTERRUPTED);
  };
  const context = (options: { config?: string }): TargetContext => ({
    configPath: options.config,
    warn: (text) => line(io.stderr, `switchyard: warning: ${text}`),
  });

  const program = new Command('switchyard')
    .description(
      'Send, receive, bridge and check messages on any Switchyard broker (TDMQ CMQ, RabbitMQ, Pulsar, RocketMQ, memory).',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();

  const common = (command: Command) =>
    command
      .option('--config <file>', 'config file for config:<binding> targets')
      .option('--json', 'machine-readable output (JSON on stdout)');

  common(
    program
      .command('send')
      .description('send one message (argument, --file or stdin), or many with --lines / --ndjson')
      .argument('[body]', 'message body; "-" or nothing reads stdin')
      .option('--url <target>', `${TARGET_HELP} (default: $SWITCHYARD_URL)`)
      .option('--password-file <file>', PASSWORD_FILE_HELP)
      .option('-d, --destination <name>', 'destination (required with a URL)')
      .option('-f, --file <path>', 'read the body from a file (bytes as they are)')
      .option('-H, --header <name=value>', 'a header (repeatable)', collect, [])
      .option('-k, --key <key>', 'message key')
      .option('-t, --tag <tag>', 'a tag (repeatable)', collect, [])
      .option('--routing-key <key>', 'routing key')
      .option('--ordering-key <key>', 'ordering key')
      .option('--delay <ms>', 'deliver no earlier than this many ms from now', wholeNumber)
      .option('--content-type <type>', 'content type')
      .option('--id <id>', 'message id (default: generated)')
      .option('--lines', 'each input line is one message body')
      .option('--ndjson', 'each input line is a JSON message: {"body", "headers", "key", "tags", ...}')
      .addHelpText(
        'after',
        `
Examples:
  switchyard send --url 'amqp://app:\${env:RABBIT_PASSWORD}@127.0.0.1:5672' -d orders 'hello' -H source=cli -k order-1
  switchyard send --url config:orders --file order.json --content-type application/json
  seq 1 100 | switchyard send --url config:orders --lines`,
      ),
  ).action(async (body: string | undefined, options) => {
    json = options.json === true;
    options.url = await urlOption(options);
    code = await sendCommand(body, options, io, context(options));
  });

  common(
    program
      .command('receive')
      .description('receive and print messages; ack them (default) or give them back (--no-ack)')
      .option('--url <target>', `${TARGET_HELP} (default: $SWITCHYARD_URL)`)
      .option('--password-file <file>', PASSWORD_FILE_HELP)
      .option('-s, --source <name>', 'source (required with a URL)')
      .option('-g, --group <group>', 'consumer group (default: the binding\'s, or "default")')
      .option(
        '-n, --max <n>',
        'stop after n messages (default 1, with --follow no limit); 0 = until --wait passes with none',
        wholeNumber,
      )
      .option('-w, --wait <ms>', 'stop when no message came for this long', wholeNumber, 5_000)
      .option('-f, --follow', 'keep receiving until interrupted (Ctrl-C); --wait then only paces the polls')
      .option(
        '--from-beginning',
        'a new group starts at the earliest message the flavour keeps (memory, Pulsar, RocketMQ 4.x; not on RabbitMQ, CMQ, RocketMQ 5)',
      )
      .option('--ack', 'ack each message after printing it (default)', true)
      .option('--no-ack', 'give each message back after printing it (it is redelivered)')
      .addHelpText(
        'after',
        `
Output: per message a header line (#n id=… attempt=… key=… headers={…}) and the body; with --json
one JSON object per line: {id, body | bodyBase64, contentType, headers, key, tags, routingKey,
orderingKey, deliveryAttempt, publishedAt}.

--follow ends with exit 130 on Ctrl-C, after the message in hand is settled. --from-beginning applies
to a group the broker does not know yet: an existing group goes on where it is (name a new one
with -g); a flavour without it fails with "not on this flavour" (exit 5).

Examples:
  switchyard receive --url config:orders --max 10 --json
  switchyard receive --url config:orders --follow --json
  switchyard receive --url "$PULSAR_URL" -s orders -g replay-1 --from-beginning --follow
  switchyard receive --url amqp://app@127.0.0.1:5672 --password-file ~/.rabbit-password -s orders -g audit --no-ack`,
      ),
  ).action(async (options) => {
    json = options.json === true;
    options.url = await urlOption(options);
    code = await receiveCommand(options, io, context(options), interrupt.signal);
  });

  common(
    program
      .command('bridge')
      .description(
        'consume from one broker and publish to another; each message is acked at the source only after the destination confirmed it',
      )
      .requiredOption('--from <target>', `source: ${TARGET_HELP}`)
      .requiredOption('--to <target>', `destination: ${TARGET_HELP}`)
      .option('--from-password-file <file>', `for --from: ${PASSWORD_FILE_HELP}`)
      .option('--to-password-file <file>', `for --to: ${PASSWORD_FILE_HELP}`)
      .option('-s, --source <name>', 'source name (required when --from is a URL)')
      .option('-d, --destination <name>', 'destination name (required when --to is a URL)')
      .option(
        '-g, --group <group>',
        "consumer group at the source (default: the binding's group for config:, switchyard-bridge for a URL)",
      )
      .option('-n, --max <n>', 'stop after n messages (0 = no limit)', wholeNumber, 0)
      .option(
        '--idle <ms>',
        'stop when no message came for this long (drain mode); default: run until stopped',
        wholeNumber,
      )
      .option('--rate <n>', 'at most n messages per second', positiveNumber)
      .option('--batch <n>', 'messages per receive/send round', wholeNumber, 256)
      .option('--ordered', 'one send in flight at a time: the destination gets messages in source order')
      .option(
        '--dead-letter <name>',
        'move a message the destination refuses for good (too large, a field it cannot carry) to this destination at the source, and go on; default: give it back and stop',
      )
      .option('--no-progress', 'no progress bar or progress lines')
      .addHelpText(
        'after',
        `
Keeps body, content type, headers, key, tags, routing key, ordering key and message id. A send that
fails gives the message back to the source (nack) and stops the bridge (exit 6 when some messages
were bridged); with --dead-letter, a message the destination refuses for good (INVALID_ARGUMENT,
MESSAGE_TOO_LARGE, UNSUPPORTED) moves to that destination at the source with the reason instead,
and the bridge goes on. SIGINT/SIGTERM: the round in flight finishes, everything unsettled goes back to the
source, a summary is printed (exit 130). Progress: a bar on a terminal, a line every 5 s otherwise.

Examples:
  switchyard bridge --from config:orders-old --to config:orders-new --idle 10000
  switchyard bridge --from 'amqp://app:\${env:RABBIT_PASSWORD}@127.0.0.1:5672' -s orders \\
    --to 'cmq+https://\${env:TENCENTCLOUD_SECRET_ID}:\${env:TENCENTCLOUD_SECRET_KEY}@cmq-gz.public.tencenttdmq.com?region=ap-guangzhou' \\
    -d orders --rate 500`,
      ),
  ).action(async (options) => {
    json = options.json === true;
    const warn = context(options).warn;
    options.from = await resolveTarget(options.from, '--from', {
      passwordFile: options.fromPasswordFile,
      passwordOption: '--from-password-file',
      warn,
    });
    options.to = await resolveTarget(options.to, '--to', {
      passwordFile: options.toPasswordFile,
      passwordOption: '--to-password-file',
      warn,
    });
    code = await bridgeCommand(options, io, context(options), interrupt.signal);
  });

  common(
    program
      .command('relay')
      .description(
        'publish the pending rows of a transactional outbox (@switchyard/outbox, PostgreSQL) with broker confirms, in order per key, until stopped',
      )
      .option('--db <url>', 'PostgreSQL URL of the database that holds the outbox (default: $DATABASE_URL)')
      .option('--db-password-file <file>', `for --db: ${PASSWORD_FILE_HELP}`)
      .option(
        '--url <target>',
        `a broker URL (rows name destinations) or config: (rows name bindings) (default: $SWITCHYARD_URL)`,
      )
      .option('--password-file <file>', PASSWORD_FILE_HELP)
      .option('--table <name>', 'outbox table (default: switchyard_outbox)')
      .option('--create-table', 'create the outbox table and its indexes first when missing')
      .option('--batch <n>', 'rows per claim (one transaction)', positiveNumber)
      .option('--poll <ms>', 'wait when nothing was claimable', positiveNumber)
      .option('--retry-delay <ms>', 'wait before a failed row is sent again', positiveNumber)
      .option(
        '--until-empty',
        'stop (exit 0) once nothing is pending, instead of running until SIGINT/SIGTERM',
      )
      .addHelpText(
        'after',
        `
Needs @switchyard/outbox and pg installed next to the CLI. Several relays may run on one table.
SIGINT/SIGTERM: the batch in hand finishes (published rows are marked sent), a summary is printed
(exit 130); killed harder, rows it held are published again under the same message id.

Examples:
  switchyard relay --db 'postgres://app:\${env:PGPASSWORD}@db/orders' --url config: --config switchyard.config.yaml
  switchyard relay --db postgres://app@db/orders --db-password-file ~/.pgpass-orders --url amqp://app@127.0.0.1:5672 --password-file ~/.rabbit-password`,
      ),
  ).action(async (options) => {
    json = options.json === true;
    const db = options.db ?? process.env.DATABASE_URL;
    if (db === undefined || db === '') throw new UsageError('--db is required (or set DATABASE_URL)');
    options.db = await resolveTarget(db, options.db === undefined ? '$DATABASE_URL' : '--db', {
      passwordFile: options.dbPasswordFile,
      passwordOption: '--db-password-file',
      ...(options.db === undefined ? {} : { warn: context(options).warn }),
    });
    options.url = await urlOption(options);
    code = await relayCommand(options, io, context(options), interrupt.signal);
  });

  common(
    program
      .command('doctor')
      .description(
        'check a URL or the config file: configuration, driver, network, connection and credentials, topology, capabilities',
      )
      .option('--url <target>', `${TARGET_HELP}; default: every binding in the config file`)
      .option('--password-file <file>', PASSWORD_FILE_HELP)
      .option(
        '-s, --source <name>',
        'also read from this source (checks credentials and topology on HTTP flavours)',
      )
      .option('-g, --group <group>', 'consumer group for the source check')
      .option('--timeout <ms>', 'per check', wholeNumber, 10_000)
      .addHelpText(
        'after',
        `
Examples:
  switchyard doctor --url 'cmq+https://cmq-gz.public.tencenttdmq.com?region=ap-guangzhou' -s orders
  switchyard doctor --config switchyard.config.yaml`,
      ),
  ).action(async (options) => {
    json = options.json === true;
    if (options.url !== undefined)
      options.url = await resolveTarget(options.url, '--url', {
        passwordFile: options.passwordFile,
        warn: context(options).warn,
      });
    code = await doctorCommand(
      { ...options, ...(options.config ? { configPath: options.config } : {}) },
      io,
      context(options).warn,
    );
  });

  const admin = (name: 'list' | 'stats' | 'purge' | 'peek', description: string, examples: string) =>
    common(
      program
        .command(name)
        .description(description)
        .option('--url <target>', 'a broker URL (default: $SWITCHYARD_URL)')
        .option('--password-file <file>', PASSWORD_FILE_HELP)
        .option('-s, --source <name>', 'the destination a consumer reads')
        .option(
          '-g, --group <group>',
          'consumer group (default: "default"; stats: every group where the flavour keeps one backlog per group)',
        )
        .option('--yes', 'purge: really delete (or skip, where the flavour skips) the waiting messages')
        .option('-n, --max <n>', 'peek: how many messages at most (default 10)', wholeNumber)
        .addHelpText(
          'after',
          `
Only where the flavour has it (see the CLI README): elsewhere it fails with "not on this flavour"
(exit 5). RabbitMQ: stats and purge of the group's queue over AMQP (no management plugin), no list
and no peek (a get-and-requeue marks messages redelivered). peek: memory and RocketMQ 4.x Remoting.

Examples:
${examples}`,
        ),
    ).action(async (options) => {
      json = options.json === true;
      options.url = await urlOption(options);
      code = await adminCommand(name, options, io);
    });
  admin(
    'list',
    'list the destinations the broker has, where the flavour can tell',
    '  switchyard list --url "$SWITCHYARD_URL"',
  );
  admin(
    'stats',
    'message counts of a source: ready, in flight, consumers, per group where the flavour keeps them',
    `  switchyard stats --url 'amqp://app:\${env:RABBIT_PASSWORD}@127.0.0.1:5672' -s orders -g billing --json`,
  );
  admin(
    'purge',
    'delete every message waiting for a group on a source (asks for --yes)',
    `  switchyard purge --url 'amqp://app:\${env:RABBIT_PASSWORD}@127.0.0.1:5672' -s orders -g billing --yes`,
  );
  admin(
    'peek',
    'show the next messages a group would get, without taking them (no lease, no attempt counted)',
    `  switchyard peek --url 'rocketmq+remoting://\${env:RMQ_TOKEN}:\${env:RMQ_ROLE}@127.0.0.1:9876' -s orders -g billing -n 5 --json`,
  );

  program
    .command('emulator')
    .description(
      'run the local TDMQ emulator (CMQ HTTP, Tencent Cloud API 3.0, RocketMQ gRPC); flags as switchyard-emulator --help',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]', 'passed to switchyard-emulator')
    .action(async (flags: string[]) => {
      code = await emulatorCommand(flags, io);
    });

  /** `--url` (or $SWITCHYARD_URL) with its references and --password-file resolved. */
  const urlOption = (options: { url?: string; passwordFile?: string; config?: string }) =>
    resolveTarget(targetUrl(options.url), options.url === undefined ? '$SWITCHYARD_URL' : '--url', {
      passwordFile: options.passwordFile,
      // $SWITCHYARD_URL is not on the command line: no warning for a password in it.
      ...(options.url === undefined ? {} : { warn: context(options).warn }),
    });

  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; everything else is a usage error.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const exit = exitCodeFor(error);
    if (json) {
      line(
        io.stdout,
        JSON.stringify({
          ok: false,
          exitCode: exit,
          error: { code: (error as { code?: string }).code ?? 'INTERNAL', message: errorText(error) },
        }),
      );
    } else {
      line(io.stderr, `switchyard: error: ${errorText(error)}`);
      if (exit === ExitCode.INTERNAL && error instanceof Error && error.stack)
        line(io.stderr, errorText(error.stack));
    }
    return exit;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
