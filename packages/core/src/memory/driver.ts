import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isAborted, onAbortOnce } from '../aborted.js';
import { type Capabilities, defineCapabilities } from '../capabilities.js';
import { boolParam as booleanParam, decodeUrlPart, intParam, parseWithSchema } from '../config.js';
import type {
  Driver,
  DriverAdmin,
  DriverConsumer,
  DriverConsumerOptions,
  DriverModule,
  DriverProducer,
  DriverReplyInbox,
} from '../driver.js';
import { ClosedError } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { Delivery, Outgoing, Receipt } from '../message-types.js';
import { openPromise, takeReject, takeResolve } from '../open-promise.js';
import { PolledReplyInbox } from '../reply-inbox.js';
import type { Woken } from '../waiters.js';
import { memoryAdmin } from './admin.js';
import { EntryDelivery, type MemoryDelivery, settled } from './delivery.js';
import { type MemoryStore, memoryStore } from './store.js';
import type { Subscription } from './subscription.js';
import type { Entry } from './types.js';

const NAME = 'memory';

export const memoryCapabilities: Readonly<Capabilities> = defineCapabilities({
  headers: 'native',
  binaryBodies: 'native',
  delayedSend: 'native',
  maxDelayMs: 7 * 24 * 3_600_000,
  nack: 'native',
  nackDelay: 'native',
  extend: true,
  visibilityTimeout: true,
  deadLetter: 'native',
  deliveryAttempt: 'native',
  orderingKeys: true,
  tagFilter: true,
  routingKeyFilter: true,
  maxTagsPerMessage: 16,
  maxKeysPerMessage: 32,
  batchSend: true,
  maxBatchSize: 1_000,
  maxBatchBytes: Number.POSITIVE_INFINITY,
  fanOut: true,
  startFrom: true,
  maxMessageBytes: 16 * 1024 * 1024,
  requestReply: 'emulated',
});

/**
 * The `minimal` profile hides what the TDMQ HTTP flavours lack (native dead letters and delivery
 * counts, nack delay, delayed send, ordering, filters, extend, startFrom), so the portable layer's
 * emulations and UNSUPPORTED errors are exercised against the reference broker.
 */
export const minimalMemoryCapabilities: Readonly<Capabilities> = defineCapabilities({
  ...memoryCapabilities,
  delayedSend: false,
  nackDelay: 'emulated',
  extend: false,
  deadLetter: 'emulated',
  deliveryAttempt: 'process',
  orderingKeys: false,
  tagFilter: false,
  routingKeyFilter: false,
  maxTagsPerMessage: 0,
  maxKeysPerMessage: 1,
  startFrom: false,
  maxMessageBytes: 64 * 1024,
});

const configSchema = z.strictObject({
  /** Store name: connections naming the same store share destinations. */
  name: z.string().max(200).default(''),
  autoCreate: z.boolean().default(true),
  retention: z.number().int().min(0).max(10_000_000).default(10_000),
  /** Default visibility timeout when a consumer sets none. */
  visibilityTimeoutMs: z.number().int().min(100).max(43_200_000).default(30_000),
  profile: z.enum(['full', 'minimal']).default('full'),
});
export type MemoryConfig = z.output<typeof configSchema>;

const urlSchema = z.strictObject({
  autoCreate: booleanParam.optional(),
  retention: intParam.optional(),
  visibilityTimeoutMs: intParam.optional(),
  profile: z.enum(['full', 'minimal']).optional(),
});

export const memoryDriver: DriverModule<MemoryConfig> = {
  name: NAME,
  schemes: ['memory'],
  defaultCapabilities: memoryCapabilities,
  fromUrl(url) {
    const query = parseWithSchema(urlSchema, Object.fromEntries(url.searchParams), 'memory URL query');
    return parseWithSchema(
      configSchema,
      { name: decodeUrlPart(url.host + url.pathname.replace(/^\/+$/, ''), 'name'), ...query },
      'memory URL',
    );
  },
  parseConfig(input) {
    return parseWithSchema(configSchema, input, 'config');
  },
  async create(config, context) {
    const driver = new MemoryDriver(config);
    context.status({ type: 'connected', driver: NAME, detail: `store "${config.name || 'default'}"` });
    return driver;
  },
};

class MemoryDriver implements Driver {
  readonly name = NAME;
  readonly capabilities: Readonly<Capabilities>;
  readonly #config: MemoryConfig;
  readonly #store: MemoryStore;
  #closed = false;

  constructor(config: MemoryConfig) {
    this.#config = config;
    this.capabilities = config.profile === 'minimal' ? minimalMemoryCapabilities : memoryCapabilities;
    this.#store = memoryStore(config.name, { retention: config.retention });
  }

  get native(): MemoryStore {
    return this.#store;
  }

  /** Topics, per-group counts and peeks, straight from the store (admin.ts). */
  get admin(): DriverAdmin {
    return memoryAdmin(this.#store, this.#config.profile === 'full');
  }

  async openProducer(destination: string): Promise<DriverProducer> {
    this.#assertOpen();
    return new MemoryProducer(this.#store, destination, this.#config.autoCreate);
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const store = this.#store;
    const subscription = store.subscribe(
      source,
      options.group,
      options.filter,
      options.startFrom,
      this.#config.autoCreate,
    );
    // Like the filter, the group's ordering follows the latest consumer's profile.
    subscription.holdsKeys = this.#config.profile === 'full';
    if (options.deadLetter !== undefined) {
      const { destination, maxDeliveries } = options.deadLetter;
      subscription.deadLetter = {
        maxDeliveries,
        move: (entry, reason) => store.deadLetter(entry, reason, destination, source, options.group),
      };
    }
    const visibilityMs = options.visibilityTimeoutMs ?? this.#config.visibilityTimeoutMs;
    const consumer = new MemoryConsumer(
      store,
      source,
      subscription,
      visibilityMs,
      this.#config.profile === 'full',
    );
    if (this.#config.profile === 'minimal') {
      // Hide what the profile lacks so the portable layer must emulate it.
      return bind(consumer);
    }
    return consumer;
  }

  /** A private topic per inbox, deleted on close, like the HTTP flavours' reply queues. */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    const store = this.#store;
    const address = `reply.${randomUUID()}`;
    store.createTopic(address);
    const subscription = store.subscribe(address, 'reply', {}, undefined, true);
    const consumer = new MemoryConsumer(store, address, subscription, this.#config.visibilityTimeoutMs, true);
    return new PolledReplyInbox({
      address,
      consumer,
      onReply,
      remove: async () => store.deleteTopic(address),
      logger: silentLogger,
    });
  }

  /** The store is in this process: it answers while the driver is open. */
  async probe(): Promise<{ store: string }> {
    this.#assertOpen();
    return { store: this.#config.name || 'default' };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('memory broker is closed', { driver: NAME });
  }
}

/**
 * A fulfilled promise: a woken receive's take is queued behind it (one reaction, where Node's
 * queueMicrotask makes an AsyncResource and a bound function per call), and an ack, done by the
 * time it returns, returns it.
 */
const DONE: Promise<void> = Promise.resolve();

/** A message's receipt: made by `new`, never pretenured (StoredEntry in subscription.ts). */
class MemoryReceipt implements Receipt {
  readonly messageId: string;

  constructor(messageId: string) {
    this.messageId = messageId;
  }
}

/** A class rather than an object of closures: one object per open producer, no closures or context. */
class MemoryProducer implements DriverProducer {
  readonly #store: MemoryStore;
  readonly #destination: string;
  readonly #create: boolean;
  #closed = false;

  constructor(store: MemoryStore, destination: string, create: boolean) {
    this.#store = store;
    this.#destination = destination;
    this.#create = create;
  }

  get native(): MemoryStore {
    return this.#store;
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw new ClosedError('memory producer is closed', { driver: NAME });
    const store = this.#store;
    // All or nothing: a missing destination fails the whole batch before anything is stored.
    if (!this.#create && !store.hasTopic(this.#destination)) throw store.notFound(this.#destination);
    store.publishBatch(this.#destination, messages, this.#create);
    const receipts = new Array<Receipt>(messages.length);
    for (let i = 0; i < messages.length; i++) receipts[i] = new MemoryReceipt(messages[i]!.id);
    return receipts;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

class MemoryConsumer implements DriverConsumer, Woken {
  readonly #store: MemoryStore;
  readonly #source: string;
  readonly #subscription: Subscription;
  readonly #visibilityMs: number;
  readonly #countsAttempts: boolean;
  #closed = false;

  constructor(
    store: MemoryStore,
    source: string,
    subscription: Subscription,
    visibilityMs: number,
    countsAttempts: boolean,
  ) {
    this.#countsAttempts = countsAttempts;
    this.#store = store;
    this.#source = source;
    this.#subscription = subscription;
    this.#visibilityMs = visibilityMs;
  }

  get native(): Subscription {
    return this.#subscription;
  }

  /**
   * The portable layer passes the same signal (its close) to every receive: one listener on it
   * wakes the subscription's waiters, instead of one added and removed per wait. A wake-up also
   * reaches other consumers of the group, which just look again.
   */
  #watched: AbortSignal | undefined;

  #watch(signal: AbortSignal): void {
    this.#watched = signal;
    const subscription = this.#subscription;
    onAbortOnce(signal, () => subscription.wakeAll());
  }

  /** A module function rather than a closure per consumer (1,000 open consumers held 1,000). */
  get #toDelivery(): (entry: Entry, lease: number) => MemoryDelivery {
    return this.#countsAttempts ? toCountedDelivery : toKeyedDelivery;
  }

  backlog(): number | undefined {
    return this.#subscription.deleted ? undefined : this.#subscription.backlog;
  }

  /**
   * What the last receiveBatch returned, emptied when the next one starts: receiveBatch is never
   * called concurrently with itself, and its callers (the portable layer's pump, the reply inbox)
   * are done with a batch before they ask again. A receiveBatch that waited long — a destination
   * among a thousand waits for a thousand others' batches — returns through a promise that is in
   * the old generation by then, and the array it was fulfilled with stays reachable from there,
   * dead or not, until the next mark-compact: with its deliveries, their entries and messages, it
   * was promoted by every scavenge (docs/bench-profiles.md §18.8 link (a), §20.1).
   */
  #lent: Delivery[] | undefined;

  /**
   * The receiveBatch waiting in the subscription, if one is: how it settles and what it asked for.
   * Fields of the consumer rather than an object, a promise and an async frame per wait: the pump
   * calls receiveBatch once per receive cycle, and over 1,000 destinations that get ≈ 10 messages
   * each per cycle, an async loop awaiting a wait's promise was ≈ 60 B per message
   * (docs/bench-profiles.md §28).
   */
  #waitResolve: ((deliveries: Delivery[]) => void) | undefined;
  #waitReject: ((error: unknown) => void) | undefined;
  #waitMax = 0;
  #waitDeadline = 0;
  #waitSignal: AbortSignal | undefined;
  #takeQueued = false;
  /** Bound once, not an arrow per consumer (V8 keeps a closure's optimized code only while it lives). */
  readonly #takeWaitedBound = this.#takeWaited.bind(this);

  receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    const lent = this.#lent;
    if (lent !== undefined) {
      lent.length = 0;
      this.#lent = undefined;
    }
    let deliveries: Delivery[];
    try {
      deliveries = this.#take(max);
    } catch (error) {
      return Promise.reject(error);
    }
    if (deliveries.length > 0) return Promise.resolve(deliveries);
    if (waitMs <= 0 || isAborted(signal)) return Promise.resolve([]);
    if (signal !== undefined && signal !== this.#watched) this.#watch(signal);
    const deadline = Date.now() + waitMs;
    // Its callers never overlap their calls; one that does waits as an async loop.
    if (this.#waitResolve !== undefined) return this.#receiveWaiting(max, deadline, signal);
    const promise = openPromise<Delivery[]>();
    this.#waitResolve = takeResolve<Delivery[]>();
    this.#waitReject = takeReject();
    this.#waitMax = max;
    this.#waitDeadline = deadline;
    this.#waitSignal = signal;
    this.#subscription.waitFor(this, waitMs);
    return promise;
  }

  /**
   * The subscription woke the wait: inside a publish (at its first message), a settle or a timer.
   * The take waits for a microtask, so that what woke it is done first (a batch sent is taken
   * whole, as when the wait was a promise).
   */
  woken(): void {
    if (this.#takeQueued) return;
    this.#takeQueued = true;
    void DONE.then(this.#takeWaitedBound);
  }

  #takeWaited(): void {
    this.#takeQueued = false;
    const resolve = this.#waitResolve!;
    const reject = this.#waitReject!;
    let deliveries: Delivery[];
    try {
      deliveries = this.#take(this.#waitMax);
    } catch (error) {
      this.#endWait();
      reject(error);
      return;
    }
    if (deliveries.length > 0) {
      this.#endWait();
      resolve(deliveries);
      return;
    }
    const left = this.#waitDeadline - Date.now();
    if (left <= 0 || isAborted(this.#waitSignal)) {
      this.#endWait();
      resolve([]);
      return;
    }
    this.#subscription.waitFor(this, left);
  }

  #endWait(): void {
    this.#waitResolve = undefined;
    this.#waitReject = undefined;
    this.#waitSignal = undefined;
  }

  /** What is deliverable now, lent until the next receiveBatch; throws once closed or deleted. */
  #take(max: number): Delivery[] {
    if (this.#closed) throw new ClosedError('memory consumer is closed', { driver: NAME });
    if (this.#subscription.deleted) throw this.#store.notFound(this.#source);
    const deliveries = this.#subscription.take(max, this.#visibilityMs, Date.now(), this.#toDelivery);
    if (deliveries.length > 0) this.#lent = deliveries;
    return deliveries;
  }

  /** A receiveBatch made while another waits: it waits by itself, looking again on every wake. */
  async #receiveWaiting(max: number, deadline: number, signal: AbortSignal | undefined): Promise<Delivery[]> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || isAborted(signal)) return [];
      await this.#subscription.wait(left, undefined);
      const deliveries = this.#take(max);
      if (deliveries.length > 0) return deliveries;
    }
  }

  // A settled delivery drops its entry (EntryDelivery.handle says why); one settled before has
  // none, and settling it again is ignored, as a stale lease always was. Not async: the acks are
  // done when it returns, and an async function's frame and promise per ack batch were ≈ 15 B per
  // message over 1,000 destinations in batches of 10 (docs/bench-profiles.md §28).
  ack(deliveries: readonly Delivery[]): Promise<void> {
    try {
      for (const d of deliveries as readonly EntryDelivery[]) {
        const entry = d.handle;
        if (entry === undefined) continue;
        settled(d);
        this.#subscription.ack(entry, d.lease);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return DONE;
  }

  async nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void> {
    const now = Date.now();
    for (const d of deliveries as readonly EntryDelivery[]) {
      const entry = d.handle;
      if (entry === undefined) continue;
      settled(d);
      this.#subscription.nack(entry, d.lease, delayMs ?? 0, now);
    }
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    const d = delivery as EntryDelivery;
    if (d.handle !== undefined) this.#subscription.extend(d.handle, d.lease, ms, Date.now());
  }

  async deadLetter(deliveries: readonly Delivery[], reason: string, destination: string): Promise<void> {
    for (const d of deliveries as readonly EntryDelivery[]) {
      const handle = d.handle;
      if (handle === undefined) continue;
      settled(d);
      const entry = this.#subscription.ack(handle, d.lease);
      if (entry !== undefined)
        this.#store.deadLetter(entry, reason, destination, this.#source, this.#subscription.group);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

function bind(consumer: MemoryConsumer): DriverConsumer {
  return {
    native: consumer.native,
    receiveBatch: (max, waitMs, signal) => consumer.receiveBatch(max, waitMs, signal),
    ack: (deliveries) => consumer.ack(deliveries),
    nack: (deliveries) => consumer.nack(deliveries),
    close: () => consumer.close(),
  };
}

const toCountedDelivery = (entry: Entry, lease: number): MemoryDelivery => toDelivery(entry, lease, true);
const toKeyedDelivery = (entry: Entry, lease: number): MemoryDelivery => toDelivery(entry, lease, false);

export function toDelivery(entry: Entry, lease: number, countsAttempts: boolean): EntryDelivery {
  return new EntryDelivery(entry, lease, countsAttempts);
}
