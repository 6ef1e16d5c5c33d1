import {
  backoffDelay,
  type Credential,
  CredentialProvider,
  type DriverContext,
  type SwitchyardError,
} from '@switchyard/core/driver';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { writeBodiesInPlace } from './body-frames.js';
import { describeTarget, type RabbitConfig } from './config.js';
import { within } from './deadline.js';
import { closedError, DRIVER, mapError, unavailable } from './errors.js';
import { amqplibFrameDecoder, readFramesWhole } from './frame-reader.js';

/** How long a close without a deadline waits for the broker's CloseOk before dropping the socket. */
export const CLOSE_WAIT_MS = 2_000;
/** amqplib's frame decoder, for the frame reader's whole frames (frame-reader.ts); looked up once. */
const DECODE_FRAME = amqplibFrameDecoder();

export interface Live {
  readonly model: ChannelModel;
  /** Increments on every (re)connect, so holders can tell a stale channel from a live one. */
  readonly generation: number;
}

/**
 * One AMQP connection that heals itself. When it drops it reports `reconnecting`, reconnects with
 * jittered exponential backoff until it succeeds or the driver closes, then reports `connected`.
 * Producers and consumers never hold the connection: they ask `connection()` for the live one
 * (waiting through an outage, bounded by their own deadline) and rebuild their channels on it.
 */
export class ConnectionManager {
  readonly #config: RabbitConfig;
  readonly #context: DriverContext;
  #live: Live | undefined;
  #generation = 0;
  #closed = false;
  #reconnecting = false;
  #lastError: SwitchyardError | undefined;
  #waiters = new Set<() => void>();
  /** Why the broker blocked the live connection (memory or disk alarm), while it does. */
  #blockedReason: string | undefined;
  #unblockWaiters = new Set<() => void>();
  #sleepTimer: NodeJS.Timeout | undefined;
  #wakeSleep: (() => void) | undefined;
  /** The user name and password (TDMQ role token), asked again for every new connection. */
  readonly #credentials: CredentialProvider;

  constructor(config: RabbitConfig, context: DriverContext) {
    this.#config = config;
    this.#context = context;
    this.#credentials = new CredentialProvider(config.credentials, {
      driver: DRIVER,
      what: 'RabbitMQ password',
      status: (event) => context.status(event),
      logger: context.logger,
    });
  }

  /** The live connection, or undefined during an outage. */
  get current(): ChannelModel | undefined {
    return this.#live?.model;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the broker is not reading this connection's publishes right now, or undefined. */
  get blocked(): string | undefined {
    return this.#blockedReason;
  }

  /**
   * Resolves true once the connection is not blocked (at once if it is not), false at `deadline`.
   * A blocked connection's publishes sit unread in the socket, so senders wait here instead of
   * piling more onto it.
   */
  async unblocked(deadline: number): Promise<boolean> {
    while (this.#blockedReason !== undefined && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#unblockWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#unblockWaiters.add(done);
      });
    }
    return true;
  }

  /** First connection: fails fast with the mapped error (bad credentials, unreachable, bad vhost). */
  async start(): Promise<void> {
    const model = await this.#open();
    this.#adopt(model);
  }

  /**
   * Resolves with the live connection; during an outage waits for the reconnect, up to `deadline`
   * (epoch ms; Infinity waits as long as the driver is open), then rejects UNAVAILABLE.
   */
  async connection(deadline = Number.POSITIVE_INFINITY, what = 'rabbitmq'): Promise<Live> {
    for (;;) {
      if (this.#closed) throw closedError('the rabbitmq connection');
      if (this.#live !== undefined) return this.#live;
      const left = deadline - Date.now();
      if (left <= 0) throw unavailable(`${what}: still reconnecting`, this.#lastError);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = Number.isFinite(left) ? setTimeout(done, left) : undefined;
        this.#waiters.add(done);
      });
    }
  }

  /**
   * Runs `work` on a short-lived channel (topology, passive checks that may close it). Resolves
   * with its result without waiting for the channel's CloseOk: nothing depends on it, and waiting
   * made every check one more round trip (a consumer's open made three of them in a row).
   */
  async withChannel<T>(deadline: number, what: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    const { model } = await this.connection(deadline, what);
    let channel: Channel;
    const creating = model.createChannel();
    try {
      // Bounded: a blocked connection or a dead socket never answers.
      channel = await within(creating, deadline - Date.now());
    } catch (error) {
      creating.then(
        (late) => late.close().catch(() => {}),
        () => {},
      );
      throw mapError(error, what);
    }
    channel.on('error', () => {
      // The failing operation's promise reports it; the event only needs a listener.
    });
    try {
      return await within(work(channel), deadline - Date.now());
    } catch (error) {
      throw mapError(error, what);
    } finally {
      // Bounded all the same: a blocked connection never answers Channel.Close.
      void within(channel.close(), CLOSE_WAIT_MS).catch(() => {});
    }
  }

  /** By `deadline` (epoch ms; CLOSE_WAIT_MS from now when absent) the socket is dropped if need be. */
  async close(deadline = Date.now() + CLOSE_WAIT_MS): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#sleepTimer);
    this.#wakeSleep?.();
    this.#wakeAll();
    this.#wakeUnblocked();
    const model = this.#live?.model;
    this.#live = undefined;
    // amqplib closes a blocked connection at once (the broker would not read a Connection.Close);
    // otherwise the broker answers promptly, or the socket is dead and the deadline ends the wait.
    if (model !== undefined) {
      await within(model.close(), deadline - Date.now()).catch(() => {
        (model.connection as { stream?: { destroy(): void } }).stream?.destroy();
      });
    }
    this.#context.status({ type: 'closed', driver: DRIVER });
  }

  /**
   * Opens a connection with the provider's credential. Refused as unauthenticated (the password
   * was rotated, the provider not yet asked again): one more ask and, if that gives another
   * password, one more try before the refusal is reported.
   */
  async #open(): Promise<ChannelModel> {
    const used = await this.#credentials.get();
    try {
      return await this.#openWith(used);
    } catch (error) {
      if ((error as { code?: string }).code !== 'UNAUTHENTICATED') throw error;
      const fresh = await this.#credentials.replacementFor(used);
      if (fresh === undefined) throw error;
      return this.#openWith(fresh);
    }
  }

  async #openWith(credential: Credential): Promise<ChannelModel> {
    const c = this.#config;
    const tls = c.tls;
    try {
      return await amqp.connect(
        {
          protocol: c.protocol,
          hostname: c.host,
          port: c.port,
          username: credential.id ?? c.username,
          password: credential.secret.reveal(),
          // amqplib unescapes the vhost it is given, so hand it the escaped form.
          vhost: encodeURIComponent(c.vhost),
          heartbeat: c.heartbeatSeconds,
        },
        {
          timeout: c.connectTimeoutMs,
          noDelay: true,
          clientProperties: { connection_name: c.connectionName ?? `switchyard pid ${process.pid}` },
          ...(tls === undefined
            ? {}
            : {
                ...(tls.ca === undefined ? {} : { ca: tls.ca }),
                ...(tls.cert === undefined ? {} : { cert: tls.cert }),
                ...(tls.key === undefined
                  ? {}
                  : { key: typeof tls.key === 'string' ? tls.key : tls.key.reveal() }),
                ...(tls.rejectUnauthorized === undefined
                  ? {}
                  : { rejectUnauthorized: tls.rejectUnauthorized }),
                ...(tls.servername === undefined ? {} : { servername: tls.servername }),
              }),
        },
      );
    } catch (error) {
      throw mapError(error, `connect to ${describeTarget(c)}`);
    }
  }

  #adopt(model: ChannelModel): void {
    corkEachFlush(model);
    readFramesWhole((model as unknown as { connection?: unknown }).connection, DECODE_FRAME);
    writeBodiesInPlace((model as unknown as { connection?: unknown }).connection);
    const live: Live = { model, generation: ++this.#generation };
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.#live === live) this.#live = undefined;
      if (!this.#closed) void this.#reconnect(error);
    };
    model.on('error', (error: unknown) => onLost(error));
    model.on('close', (error?: unknown) => {
      if (this.#live === live || this.#live === undefined) this.#setUnblocked(undefined);
      onLost(error);
    });
    model.on('blocked', (reason: unknown) => {
      if (this.#live !== live) return;
      this.#blockedReason = typeof reason === 'string' && reason !== '' ? reason : 'no reason given';
      this.#context.logger.warn(
        { reason: this.#blockedReason },
        'rabbitmq: the broker blocked publishing on this connection (resource alarm); sends wait up to their deadline',
      );
      this.#context.status({ type: 'blocked', driver: DRIVER, reason: this.#blockedReason });
    });
    model.on('unblocked', () => {
      if (this.#live === live) this.#setUnblocked('unblocked');
    });
    this.#live = live;
    this.#context.status({ type: 'connected', driver: DRIVER, detail: describeTarget(this.#config) });
    this.#wakeAll();
  }

  async #reconnect(cause: unknown): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    this.#lastError = cause === undefined ? undefined : mapError(cause, 'connection lost');
    try {
      for (let attempt = 1; !this.#closed; attempt++) {
        this.#context.status({
          type: 'reconnecting',
          driver: DRIVER,
          attempt,
          ...(this.#lastError === undefined ? {} : { error: this.#lastError }),
        });
        await this.#sleep(backoffDelay({ ...this.#config.reconnect, multiplier: 2 }, attempt));
        if (this.#closed) return;
        try {
          const model = await this.#open();
          if (this.#closed) {
            await model.close().catch(() => {});
            return;
          }
          this.#adopt(model);
          return;
        } catch (error) {
          this.#lastError = mapError(error, 'reconnect');
          this.#context.logger.warn({ attempt, error: this.#lastError.message }, 'rabbitmq reconnect failed');
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeSleep = resolve;
      this.#sleepTimer = setTimeout(resolve, ms);
    });
  }

  /** Clears the blocked state; with `detail`, says so (status and log) if it was set. */
  #setUnblocked(detail: string | undefined): void {
    const was = this.#blockedReason;
    this.#blockedReason = undefined;
    this.#wakeUnblocked();
    if (was === undefined || detail === undefined) return;
    this.#context.logger.info({ reason: was }, 'rabbitmq: the broker unblocked publishing');
    this.#context.status({
      type: 'connected',
      driver: DRIVER,
      detail: `${describeTarget(this.#config)}, ${detail}`,
    });
  }

  #wakeUnblocked(): void {
    for (const waiter of [...this.#unblockWaiters]) waiter();
  }

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** amqplib's frame muxer, as far as corkEachFlush and writeSoon need it (internals, checked before use). */
interface Muxer {
  _readIncoming(): void;
  readonly out?: { cork?(): void; uncork?(): void };
}

/**
 * amqplib's muxer writes every frame it takes from the channels' buffers with its own
 * socket.write, and on a socket that keeps up (loopback, a fast LAN) each one is a write syscall
 * of its own: a publish of 256 B is one ~400 B syscall, and the kernel's TCP send path (and, on
 * loopback, the broker side's receive path) is paid per frame (≈ 2.8 µs of kernel CPU and ≈ 1.3 µs
 * of Node's stream write path per frame measured, docs/bench-profiles.md). Corked for the length of
 * one flush, the frames of that turn leave in one writev (up to the socket's high-water mark, then
 * the muxer waits for 'drain' as before). It is uncorked before the flush returns, so no frame waits
 * for a later one and TCP_NODELAY still sends at once. Another amqplib without these internals is
 * left as it is.
 */
function corkEachFlush(model: ChannelModel): void {
  const mux = (model as unknown as { connection?: { muxer?: Muxer } }).connection?.muxer;
  const out = mux?.out;
  if (mux === undefined || typeof mux._readIncoming !== 'function') return;
  if (typeof out?.cork !== 'function' || typeof out.uncork !== 'function') return;
  const corked = mux as Muxer & { [FLUSH]: () => void };
  corked[FLUSH] = mux._readIncoming;
  corked._readIncoming = corkedFlush;
}

/** amqplib's own flush of a muxer corkEachFlush wrapped. */
const FLUSH = Symbol('switchyard.amqplibFlush');

/**
 * A corked muxer's flush: one function for every connection, not a closure per connection (whose
 * optimized code went with its connection at a mark-compact and was compiled again for the next).
 */
function corkedFlush(this: Muxer & { [FLUSH]: () => void }): void {
  const out = this.out!;
  out.cork!();
  try {
    this[FLUSH]();
  } finally {
    out.uncork!();
  }
}

/**
 * Has the frames `channel` just queued written in this turn of the event loop, not the next.
 * amqplib's muxer writes what the channels queued at its next setImmediate; an ack queued during
 * the check phase (where core's AckBatcher hands its batch over, docs/bench-profiles.md §25.4) gets an
 * immediate that Node runs only in the next loop iteration, after that iteration's socket reads:
 * the broker then learns of the acks that much later, and with half the prefetch acked per frame it
 * has that much less credit. The next tick runs after the channel buffer's own 'readable' tick (which
 * the write queued first, and which hands the buffer to the muxer), so the muxer finds the frame; its
 * immediate then finds nothing left. Another amqplib without these internals keeps its own timing.
 */
export function writeSoon(channel: Channel): void {
  const mux = (channel as unknown as { connection?: { muxer?: Partial<Muxer> } }).connection?.muxer;
  if (typeof mux?._readIncoming !== 'function') return;
  // An argument, not an arrow made per call (whose optimized code a mark-compact would drop).
  process.nextTick(flushNow, mux);
}

function flushNow(mux: Partial<Muxer>): void {
  mux._readIncoming!();
}
