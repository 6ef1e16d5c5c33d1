// `switchyard-emulator`: start the emulator, print one JSON line with the endpoints, stop cleanly
// on SIGTERM/SIGINT. Everything else lives in startEmulator.

import { Command, InvalidArgumentError } from 'commander';
import { CredentialFlagError, resolveCredentials, SECRET_ID_ENV, SECRET_KEY_ENV } from './cli-credentials.js';
import { FaultConfigError, type FaultRule, parseFaultFlag } from './faults/rules.js';
import { type RunningEmulator, startEmulator } from './start.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function fault(value: string, previous: FaultRule[]): FaultRule[] {
  try {
    return [...previous, parseFaultFlag(value)];
  } catch (error) {
    throw new InvalidArgumentError(error instanceof FaultConfigError ? error.message : String(error));
  }
}

export function buildProgram(): Command {
  return new Command('switchyard-emulator')
    .description(
      'Local, wire-faithful Tencent TDMQ emulator: the CMQ HTTP API, the Tencent Cloud API 3.0 (TDMQ)\n' +
        'RocketMQ 5 gRPC (apache.rocketmq.v2) and the RocketMQ 4.x Remoting protocol (name server + broker).\n' +
        'Prints {"cmq":"http://host:port","api":"http://host:port","rocketmq":"host:port","remoting":"host:port","adminToken":"..."} on one line when ready.',
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--cmq-port <port>', 'CMQ HTTP API port (0 = random)', port, 0)
    .option('--api-port <port>', 'Tencent Cloud API 3.0 port (0 = random)', port, 0)
    .option('--rocketmq-port <port>', 'RocketMQ 5 gRPC port (0 = random)', port, 0)
    .option(
      '--remoting-port <port>',
      'RocketMQ 4.x Remoting name server and broker port (0 = random)',
      port,
      0,
    )
    .option(
      '--rocketmq-no-auto-create',
      'RocketMQ topics and groups must be created first (PUT /_emulator/rocketmq/topics/NAME), as on the real service',
    )
    .option(
      '--rocketmq-require-auth',
      'RocketMQ calls without an authorization header are rejected (40100); the default, kept for old scripts',
    )
    .option(
      '--rocketmq-allow-anonymous',
      'accept RocketMQ calls without an authorization header (the Apache proxy with ACL off)',
    )
    .option(
      '--admin-token <token>',
      'token the /_emulator/* admin routes require as "Authorization: Bearer <token>" ' +
        '(default: $SWITCHYARD_EMULATOR_ADMIN_TOKEN, else random per start); printed as "adminToken" in the ready line',
    )
    .option(
      '--secret-id <id>',
      `accepted SecretId (repeatable; pairs with --secret-key-file in order; default $${SECRET_ID_ENV})`,
      collect,
      [],
    )
    .option(
      '--secret-key-file <file>',
      `file holding the SecretKey for the --secret-id at the same position (repeatable); for one SecretId, $${SECRET_KEY_ENV} does too`,
      collect,
      [],
    )
    .option(
      '--secret-key <key>',
      'SecretKey for the --secret-id at the same position; deprecated: every user of the machine sees it in the process list',
      collect,
      [],
    )
    .option(
      '--state <file>',
      'keep state in FILE: loaded at start, every change journaled to FILE.journal before its reply, compacted into FILE periodically and on exit',
    )
    .option('--state-interval <ms>', 'how often to compact the --state journal into FILE', integer, 5000)
    .option('--state-fsync', 'fdatasync every --state journal write (survives a machine crash; slower)')
    .option('--seed <n>', 'seed for fault dice and ids', integer)
    .option(
      '--fault <spec>',
      'fault rule protocol:action:key=value,... e.g. cmq:ReceiveMessage:errorRate=0.1,latencyMs=50 ' +
        '(keys: errorRate, resetRate, hangRate, lostReplyRate, latencyMs, latencyJitterMs, spikeRate, spikeMs; action may be *)',
      fault,
      [],
    )
    .option(
      '--timestamp-window <seconds>',
      'allowed CMQ request Timestamp skew (default 300, or --auth-window), 0 = unchecked',
      integer,
    )
    .option(
      '--auth-window <seconds>',
      'allowed request time skew on every protocol (CMQ Timestamp, API X-TC-Timestamp, RocketMQ x-mq-date-time; defaults 300/300/900), 0 = unchecked',
      integer,
    )
    .option(
      '--no-replay-check',
      'accept a replayed CMQ / API v1 request (same Nonce and Signature) inside the window',
    )
    .option(
      '--clock-offset <ms>',
      'shift the server time signatures are checked against (+ = server ahead of clients)',
      integer,
      0,
    )
    .option(
      '--lenient-publish',
      'publish to a topic with no (matching) subscription succeeds instead of 6030',
    )
    .option(
      '--recreate-guard <seconds>',
      'seconds before a deleted queue/topic name can be reused',
      integer,
      10,
    );
}

interface CliOptions {
  host: string;
  cmqPort: number;
  apiPort: number;
  rocketmqPort: number;
  remotingPort: number;
  rocketmqNoAutoCreate?: boolean;
  rocketmqRequireAuth?: boolean;
  rocketmqAllowAnonymous?: boolean;
  adminToken?: string;
  stateFsync?: boolean;
  secretId: string[];
  secretKey: string[];
  secretKeyFile: string[];
  state?: string;
  stateInterval: number;
  seed?: number;
  fault: FaultRule[];
  timestampWindow?: number;
  authWindow?: number;
  replayCheck: boolean;
  clockOffset: number;
  lenientPublish?: boolean;
  recreateGuard: number;
}

export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.parse([...argv], { from: 'user' });
  const o = program.opts<CliOptions>();
  if (o.rocketmqRequireAuth && o.rocketmqAllowAnonymous) {
    program.error(
      'error: --rocketmq-require-auth and --rocketmq-allow-anonymous contradict each other; give one',
    );
  }
  const adminToken = o.adminToken ?? process.env.SWITCHYARD_EMULATOR_ADMIN_TOKEN;
  if (adminToken !== undefined && !/^[A-Za-z0-9._~+/=-]{16,}$/.test(adminToken)) {
    program.error(
      'error: the admin token must be at least 16 characters of letters, digits and ._~+/=- (it travels in an HTTP header)',
    );
  }
  const credentials = (() => {
    try {
      const resolved = resolveCredentials(o);
      for (const warning of resolved.warnings) process.stderr.write(`switchyard-emulator: ${warning}\n`);
      return resolved.credentials;
    } catch (error) {
      if (!(error instanceof CredentialFlagError)) throw error;
      return program.error(`error: ${error.message}`);
    }
  })();
  // Listen for signals before starting, so a stop request during startup still ends cleanly.
  let emulator: RunningEmulator | undefined;
  let pendingSignal: string | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (emulator === undefined) {
      pendingSignal = signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`switchyard-emulator: error while stopping after ${signal}: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  emulator = await startEmulator({
    host: o.host,
    cmqPort: o.cmqPort,
    apiPort: o.apiPort,
    rocketmqPort: o.rocketmqPort,
    remotingPort: o.remotingPort,
    rocketmq: {
      ...(o.rocketmqNoAutoCreate ? { autoCreate: false } : {}),
      allowAnonymous: o.rocketmqAllowAnonymous === true,
    },
    ...(credentials.length > 0 ? { credentials } : {}),
    ...(o.state !== undefined
      ? { statePath: o.state, stateIntervalMs: o.stateInterval, stateFsync: o.stateFsync === true }
      : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    faults: { ...(o.seed !== undefined ? { seed: o.seed } : {}), rules: o.fault },
    ...(o.timestampWindow !== undefined ? { timestampWindowSeconds: o.timestampWindow } : {}),
    auth: {
      ...(o.authWindow !== undefined ? { timestampWindowSeconds: o.authWindow } : {}),
      replayProtection: o.replayCheck,
      clockOffsetMs: o.clockOffset,
    },
    cmq: { strictPublish: !o.lenientPublish, recreateGuardSeconds: o.recreateGuard },
  });
  if (pendingSignal !== undefined) {
    shutdown(pendingSignal);
    return;
  }
  const { cmq, api, rocketmq, remoting } = emulator.endpoints;
  process.stdout.write(
    `${JSON.stringify({ cmq, api, rocketmq, remoting, adminToken: emulator.adminToken })}\n`,
  );
}
