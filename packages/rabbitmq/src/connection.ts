import { backoffDelay, type DriverContext, type SwitchyardError } from '@switchyard/core';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { describeTarget, type RabbitConfig } from './config.js';
import { closedError, DRIVER, mapError, unavailable } from './errors.js';

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
  #sleepTimer: NodeJS.Timeout | undefined;
  #wakeSleep: (() => void) | undefined;

  constructor(config: RabbitConfig, context: DriverContext) {
    this.#config = config;
    this.#context = context;
  }

  /** The live connection, or undefined during an outage. */
  get current(): ChannelModel | undefined {
    return this.#live?.model;
  }

  get closed(): boolean {
    return this.#closed;
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

  /** Runs `work` on a short-lived channel (topology, passive checks that may close it). */
  async withChannel<T>(deadline: number, what: string, work: (channel: Channel) => Promise<T>): Promise<T> {
    const { model } = await this.connection(deadline, what);
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw mapError(error, what);
    }
    channel.on('error', () => {
      // The failing operation's promise reports it; the event only needs a listener.
    });
    try {
      return await work(channel);
    } catch (error) {
      throw mapError(error, what);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#sleepTimer);
    this.#wakeSleep?.();
    this.#wakeAll();
    const model = this.#live?.model;
    this.#live = undefined;
    if (model !== undefined) await model.close().catch(() => {});
    this.#context.status({ type: 'closed', driver: DRIVER });
  }

  async #open(): Promise<ChannelModel> {
    const c = this.#config;
    const tls = c.tls;
    try {
      return await amqp.connect(
        {
          protocol: c.protocol,
          hostname: c.host,
          port: c.port,
          username: c.username,
          password: c.password.reveal(),
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
    const live: Live = { model, generation: ++this.#generation };
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.#live === live) this.#live = undefined;
      if (!this.#closed) void this.#reconnect(error);
    };
    model.on('error', (error: unknown) => onLost(error));
    model.on('close', (error?: unknown) => onLost(error));
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

  #wakeAll(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}
