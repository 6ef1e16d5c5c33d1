// `switchyard list | stats | purge`: management through the driver's optional admin calls
// (DriverAdmin in @switchyard/core), each only where the flavour offers it over the protocol or
// API the driver already speaks. A flavour without one fails with "not on this flavour"
// (UNSUPPORTED, exit 5) before anything else happens.

import {
  ConfigError,
  type Driver,
  type DriverAdmin,
  driverForScheme,
  loadDriver,
  redact,
  silentLogger,
  toSwitchyardError,
  UnsupportedError,
} from '@switchyard/core';
import { ExitCode, UsageError } from '../exit-codes.js';
import { type Io, line } from '../output.js';
import { isBindingSpec } from '../target.js';

export interface AdminOptions {
  url: string;
  source?: string;
  group?: string;
  yes?: boolean;
  json?: boolean;
}

type Operation = 'list' | 'stats' | 'purge';

const WHAT: Record<Operation, string> = {
  list: 'list its destinations',
  stats: 'report message counts',
  purge: 'purge a queue',
};

export async function adminCommand(operation: Operation, options: AdminOptions, io: Io): Promise<number> {
  if (operation !== 'list' && !options.source)
    throw new UsageError(`switchyard ${operation} needs --source (the destination a consumer reads)`);
  if (operation === 'purge' && !options.yes)
    throw new UsageError(
      'switchyard purge deletes every waiting message of the group for good: add --yes to do it',
    );
  const driver = await openDriver(options.url);
  try {
    const admin = driver.admin;
    const call = admin?.[operation];
    if (admin === undefined || call === undefined)
      throw new UnsupportedError(
        `switchyard ${operation} is not on this flavour: the ${driver.name} driver cannot ${WHAT[operation]} (see the CLI README for what each flavour has)`,
        { driver: driver.name, details: { operation } },
      );
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
  return admin.purge!(source, options.group).then((purged) => ({ purged }));
}

function print(operation: Operation, result: unknown, options: AdminOptions, io: Io): void {
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
    const { purged } = result as { purged: number | undefined };
    line(
      io.stdout,
      purged === undefined ? `purged ${options.source}` : `purged ${purged} messages from ${options.source}`,
    );
  }
}

/**
 * The driver behind a URL, opened without the portable layer: management calls need no producer
 * or consumer. config:<binding> targets are not taken (a binding may stand for two brokers).
 */
async function openDriver(spec: string): Promise<Driver> {
  if (isBindingSpec(spec))
    throw new UsageError('list, stats and purge take a broker URL, not config:<binding>');
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
  const module = await loadDriver(name);
  return module
    .create(module.fromUrl(url), { logger: silentLogger, status: () => {} })
    .catch((error: unknown) => {
      throw toSwitchyardError(error, module.name);
    });
}
