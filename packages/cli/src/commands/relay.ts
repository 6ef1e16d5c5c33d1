// `switchyard relay`: runs the transactional outbox's relay (@switchyard/outbox) against a
// PostgreSQL database and a broker URL or the config file's bindings, until SIGINT/SIGTERM (or,
// with --until-empty, until nothing is pending). The outbox package and pg are optional peers,
// loaded only here, so `send`, `receive` and `bridge` never need a database client.

import { type Bindings, ConfigError, connect, fromConfig, redact } from '@switchyard/core';
import { ExitCode, exitCodeFor, UsageError } from '../exit-codes.js';
import { errorText, type Io, line } from '../output.js';
import type { TargetContext } from '../target.js';

type OutboxModule = typeof import('@switchyard/outbox');
type PgModule = typeof import('pg');

export interface RelayCommandOptions {
  /** PostgreSQL URL, references and --db-password-file already resolved. */
  db: string;
  /** A broker URL (rows name destinations) or `config:` (rows name bindings of the config file). */
  url: string;
  table?: string;
  batch?: number;
  poll?: number;
  retryDelay?: number;
  /** Stop once a cycle found nothing to claim and nothing is pending (drain, then exit 0). */
  untilEmpty?: boolean;
  /** Create the outbox table and its indexes first when missing. */
  createTable?: boolean;
  json?: boolean;
}

export interface RelaySummary {
  ok: boolean;
  db: string;
  to: string;
  table: string;
  published: number;
  failed: number;
  pending?: number;
  durationMs: number;
  stoppedBy: 'empty' | 'signal' | 'error';
  error?: { code: string; message: string };
}

/** The packages `relay` needs and the CLI does not install by itself. */
export async function loadOutbox(
  importer: (pkg: string) => Promise<unknown> = (pkg) => import(pkg),
): Promise<{ outbox: OutboxModule; pg: PgModule }> {
  const load = async <T>(pkg: string): Promise<T> => {
    try {
      return (await importer(pkg)) as T;
    } catch (cause) {
      const e = cause as { code?: string; message?: string };
      const missing =
        (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') &&
        (e.message ?? '').includes(pkg);
      if (!missing) throw cause;
      throw new ConfigError(
        `switchyard relay needs the package ${pkg}, which is not installed (@switchyard/outbox and pg are optional peers of @switchyard/cli): npm install @switchyard/outbox pg`,
        { cause, details: { package: pkg } },
      );
    }
  };
  const [outbox, pg] = await Promise.all([load<OutboxModule>('@switchyard/outbox'), load<PgModule>('pg')]);
  return { outbox, pg: (pg as unknown as { default?: PgModule }).default ?? pg };
}

export async function relayCommand(
  options: RelayCommandOptions,
  io: Io,
  context: TargetContext,
  interrupt: AbortSignal,
): Promise<number> {
  const started = Date.now();
  const dbLabel = redact(options.db);
  const table = options.table ?? 'switchyard_outbox';
  const { outbox, pg } = await loadOutbox();
  const target = await openTarget(options.url, context);
  const pool = new pg.Pool({ connectionString: options.db, max: 2, connectionTimeoutMillis: 10_000 });
  // An idle connection the server drops must not end the process: the next claim reconnects.
  pool.on('error', () => {});
  const counts = { published: 0, failed: 0 };
  let stoppedBy: RelaySummary['stoppedBy'] = 'signal';
  let failure: unknown;
  let pending: number | undefined;
  try {
    // Checked before the loop so a wrong URL, password or table fails now with its exit code,
    // instead of as retried warnings.
    if (options.createTable) await outbox.ensureOutboxSchema(pool, { table });
    pending = await outbox.pendingCount(pool, { table });
    line(
      io.stderr,
      `switchyard relay: relaying ${table} on ${dbLabel} to ${target.label} (${pending} pending)${options.untilEmpty ? ', until empty' : ''}`,
    );
    const relay = outbox.startRelay({
      pool,
      broker: target.target,
      table,
      ...(options.batch === undefined ? {} : { batchSize: options.batch }),
      ...(options.poll === undefined ? {} : { pollMs: options.poll }),
      ...(options.retryDelay === undefined ? {} : { retryDelayMs: options.retryDelay }),
      // The relay retries by itself (backoff); each failure is reported, redacted, and it goes on.
      onError: (error) => line(io.stderr, `switchyard relay: warning: ${errorText(error)}`),
    });
    const signalled = new Promise<void>((resolve) => {
      if (interrupt.aborted) resolve();
      interrupt.addEventListener('abort', () => resolve(), { once: true });
    });
    if (options.untilEmpty) {
      const empty = (async () => {
        for (;;) {
          await Promise.race([relay.drained(), signalled]);
          if (interrupt.aborted) return;
          if ((await outbox.pendingCount(pool, { table })) === 0) return;
        }
      })();
      await Promise.race([empty, signalled]);
      if (!interrupt.aborted) stoppedBy = 'empty';
    } else await signalled;
    // Finishes the batch in hand: published rows are marked sent, the rest stay pending.
    await relay.stop();
    counts.published = relay.stats.published;
    counts.failed = relay.stats.failed;
    pending = await outbox.pendingCount(pool, { table }).catch(() => undefined);
  } catch (error) {
    failure = error;
    stoppedBy = 'error';
  } finally {
    await target.close().catch(() => {});
    await pool.end().catch(() => {});
  }
  const summary: RelaySummary = {
    ok: failure === undefined,
    db: dbLabel,
    to: target.label,
    table,
    ...counts,
    ...(pending === undefined ? {} : { pending }),
    durationMs: Date.now() - started,
    stoppedBy,
    ...(failure === undefined
      ? {}
      : { error: { code: (failure as { code?: string }).code ?? 'INTERNAL', message: errorText(failure) } }),
  };
  if (options.json) line(io.stdout, JSON.stringify(summary));
  else {
    line(
      io.stdout,
      `relayed ${summary.published} message${summary.published === 1 ? '' : 's'} from ${table} to ${summary.to} in ${(summary.durationMs / 1000).toFixed(1)} s; ${summary.failed} sends failed (retried); ${pending ?? 'unknown'} pending; stopped by ${stoppedBy}`,
    );
    if (failure !== undefined) line(io.stderr, `switchyard relay: ${errorText(failure)}`);
    if ((failure as { code?: string } | undefined)?.code === 'NOT_FOUND' && !options.createTable)
      line(io.stderr, 'switchyard relay: add --create-table to create the outbox table and its indexes');
  }
  if (failure !== undefined) return exitCodeFor(failure);
  return stoppedBy === 'signal' ? ExitCode.INTERRUPTED : ExitCode.OK;
}

interface Target {
  readonly label: string;
  readonly target: Bindings | Awaited<ReturnType<typeof connect>>;
  close(): Promise<void>;
}

/**
 * `config:` relays through the config file's bindings (a row's destination names a binding, so a
 * dual-write binding publishes to both brokers); a URL relays to that broker (a row's destination
 * is a destination).
 */
async function openTarget(spec: string, context: TargetContext): Promise<Target> {
  if (spec.startsWith('config:')) {
    if (spec !== 'config:')
      throw new UsageError(
        `--url ${spec}: the relay publishes each row to the binding the row names, so give config: alone (rows written with outbox.add(tx, { destination: 'orders', ... }) go to binding orders)`,
      );
    const bindings = await fromConfig({
      ...(context.configPath ? { path: context.configPath } : {}),
      onWarning: context.warn,
    });
    return { label: 'config:', target: bindings, close: () => bindings.close() };
  }
  const broker = await connect(spec);
  return { label: redact(spec), target: broker, close: () => broker.close() };
}
