// `switchyard list | stats | purge | peek`: management through the driver's optional admin calls
// (DriverAdmin in @switchyard/core), each only where the flavour offers it over the protocol or
// API the driver already speaks. A flavour without one fails with "not on this flavour"
// (UNSUPPORTED, exit 5) before anything else happens, with the driver's reason where it gives one.

import {
  ConfigError,
  type Driver,
  type DriverAdmin,
  type DriverModule,
  driverForScheme,
  loadDriver,
  type PeekedMessage,
  redact,
  silentLogger,
  toSwitchyardError,
  UnsupportedError,
} from '@switchyard/core';
import { ExitCode, UsageError } from '../exit-codes.js';
import { type Io, line, messageToJson, messageToText, type PrintableMessage } from '../output.js';
import { isBindingSpec } from '../target.js';

export interface AdminOptions {
  url: string;
  source?: string;
  group?: string;
  yes?: boolean;
  /** peek: how many messages at most. */
  max?: number;
  json?: boolean;
}

type Operation = 'list' | 'stats' | 'purge' | 'peek';

const WHAT: Record<Operation, string> = {
  list: 'list its destinations',
  stats: 'report message counts',
  purge: 'purge a queue',
  peek: 'read messages without taking them',
};

const PEEK_DEFAULT = 10;

export async function adminCommand(operation: Operation, options: AdminOptions, io: Io): Promise<number> {
  if (operation !== 'list' && !options.source)
    throw new UsageError(`switchyard ${operation} needs --source (the destination a consumer reads)`);
  if (operation === 'peek' && options.max !== undefined && options.max < 1)
    throw new UsageError('switchyard peek --max must be 1 or more');
  if (operation === 'purge' && !options.yes)
    throw new UsageError(
      'switchyard purge takes every waiting message away from the group for good (deleted, or on RocketMQ 4.x and Pulsar skipped past for that group): add --yes to do it',
    );
  const driver = await openDriver(options.url, operation);
  try {
    const admin = driver.admin;
    const call = admin?.[operation];
    if (admin === undefined || call === undefined)
      throw notOnThisFlavour(operation, driver.name, admin?.unsupportedReason);
    const result = await run(operation, admin, options).catch((error: unknown) => {
      throw toSwitchyardError(error, driver.name);
    });
    print(operation, result, options, io);
    return ExitCode.OK;
  } finally {
    await driver.close().catch(() => {});
  }
}

function run(operation: Operation, admin: DriverAdmin, options: AdminOptions): Promise<unknown> {
  const source = options.source as string;
  if (operation === 'list') return admin.list!();
  if (operation === 'stats') return admin.stats!(source, options.group);
  if (operation === 'peek') return admin.peek!(source, options.group, { max: options.max ?? PEEK_DEFAULT });
  return admin.purge!(source, options.group).then((purged) =>
    admin.purgeEffect === 'skip' ? { purged, effect: 'skip' } : { purged },
  );
}

function notOnThisFlavour(
  operation: Operation,
  driver: string,
  reason: string | undefined,
): UnsupportedError {
  return new UnsupportedError(
    `switchyard ${operation} is not on this flavour: the ${driver} driver cannot ${WHAT[operation]}` +
      `${reason === undefined ? '' : ` (${reason})`} (see the CLI README for what each flavour has)`,
    { driver, details: { operation } },
  );
}

/** A peeked message as printing wants it (a received Message's fields). */
function printable(m: PeekedMessage): PrintableMessage {
  return {
    ...m,
    publishedAt: m.publishedAt === undefined ? undefined : new Date(m.publishedAt),
    text: () => Buffer.from(m.body).toString('utf8'),
  };
}

function print(operation: Operation, result: unknown, options: AdminOptions, io: Io): void {
  if (operation === 'peek') {
    const messages = (result as PeekedMessage[]).map(printable);
    // One JSON object per line, as receive prints; the count on stderr keeps stdout to messages.
    for (const [i, m] of messages.entries())
      line(io.stdout, options.json ? JSON.stringify(messageToJson(m)) : messageToText(m, i + 1));
    line(io.stderr, `peeked ${messages.length} message${messages.length === 1 ? '' : 's'}, none taken`);
    return;
  }
  if (options.json) {
    line(io.stdout, JSON.stringify(operation === 'list' ? { destinations: result } : result));
    return;
  }
  if (operation === 'list') {
    const list = result as Array<{ name: string; kind: string }>;
    for (const d of list) line(io.stdout, `${d.kind.padEnd(5)}  ${d.name}`);
    if (list.length === 0) line(io.stderr, 'no destinations');
  } else if (operation === 'stats') {
    const s = result as {
      name: string;
      ready?: number;
      inFlight?: number;
      consumers?: number;
      groups?: object;
    };
    const counts = (c: { ready?: number; inFlight?: number; consumers?: number }) =>
      [
        c.ready === undefined ? '' : `ready=${c.ready}`,
        c.inFlight === undefined ? '' : `inFlight=${c.inFlight}`,
        c.consumers === undefined ? '' : `consumers=${c.consumers}`,
      ]
        .filter(Boolean)
        .join(' ');
    const own = counts(s);
    if (own !== '' || s.groups === undefined) line(io.stdout, `${s.name} ${own}`.trim());
    for (const [group, c] of Object.entries(s.groups ?? {}))
      line(io.stdout, `${s.name} group=${group} ${counts(c)}`);
  } else {
    const { purged, effect } = result as { purged: number | undefined; effect?: 'skip' };
    const count = purged === undefined ? '' : ` ${purged} messages`;
    line(
      io.stdout,
      effect === 'skip'
        ? `skipped${count} for group ${options.group ?? 'default'} on ${options.source}: the group's position moved past them; the broker keeps them (other groups still get them)`
        : purged === undefined
          ? `purged ${options.source}`
          : `purged ${purged} messages from ${options.source}`,
    );
  }
}

/**
 * The driver behind a URL, opened without the portable layer: management calls need no producer
 * or consumer. config:<binding> targets are not taken (a binding may stand for two brokers).
 */
async function openDriver(spec: string, operation: Operation): Promise<Driver> {
  if (isBindingSpec(spec))
    throw new UsageError('list, stats, purge and peek take a broker URL, not config:<binding>');
  let url: URL;
  try {
    url = new URL(spec);
  } catch (cause) {
    throw new ConfigError(`not a valid broker URL: "${redact(spec)}"`, { cause });
  }
  const name = driverForScheme(url.protocol);
  if (name === undefined)
    throw new ConfigError(`no driver for URL scheme "${url.protocol}"`, {
      details: { scheme: url.protocol },
    });
  const module: DriverModule = await loadDriver(name);
  // A driver with no management calls at all says so before connecting (or loading a native client).
  if (module.adminUnsupportedReason !== undefined)
    throw notOnThisFlavour(operation, module.name, module.adminUnsupportedReason);
  return module
    .create(module.fromUrl(url), { logger: silentLogger, status: () => {} })
    .catch((error: unknown) => {
      throw toSwitchyardError(error, module.name);
    });
}
