// Core's run() path alone, counted per message: one long-lived consumer (so its code stays warm
// between rounds) over a push driver in this process that does what the Remoting driver's push mode
// does and nothing else: pulls of 32 land in a buffer from a setImmediate while what it holds is
// under prefetch, `ready` is called, takeReady leases what it hands out with core's Leases
// (one slot per delivery, as RemotingDelivery), and ack ends the leases. No socket, no codec, no
// broker: what a round costs beyond this file's few lines is the consumer's (docs/bench-profiles.md
// §28.2 split the Remoting row's core share at ≈ 1.29k instructions per message).
//
//   node --import tsx --conditions=switchyard-source bench/profile-run-loop.ts [count] [rounds] [warm]
//
// Every round runs run() with a sync handler (the bench's: count, abort at `count`) on prefetch 64,
// concurrency 32, as the Remoting bench's Switchyard side does. Counts:
//   CALLGRIND=1, under `valgrind --tool=callgrind --instr-atstart=no
//     --callgrind-out-file=<dir>/cg.%p node --perf-basic-prof ...`: each measured round is zeroed at
//     its start and dumped at its end (one dump per round; warm-up rounds are not instrumented).
//   ALLOC=1 (run with --max-semi-space-size=256 so no scavenge falls inside a round): bytes
//     allocated per message (heap used after − before, with the round's GCs printed: 0 when the
//     figure is exact), and with ALLOC=sites the heap sampler's top allocation sites per message.
//   PROMISES=1: promises made per message (an async hook's init count; it slows the round).

import { createHook } from 'node:async_hooks';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import {
  connect,
  type Delivery,
  type DriverConsumer,
  type DriverModule,
  type LeaseSlot,
  Leases,
  registerDriver,
} from '@switchyard/core';
import { remotingCapabilities } from '@switchyard/rocketmq';
import { callgrind } from './callgrind.js';
import { runUntil } from './rabbitmq-drains.js';

const count = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const warm = Number(process.argv[4] ?? 10);
const PREFETCH = 64;
const PULL = 32;
const LEASE_MS = 30_000;
const body = new Uint8Array(256);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_TAGS: readonly string[] = Object.freeze([]);

/** A delivery shaped as the Remoting driver's: fields set once, its own lease slot. */
class StubDelivery implements Delivery, LeaseSlot {
  readonly id: string;
  readonly body = body;
  readonly contentType = 'application/octet-stream';
  readonly headers = NO_HEADERS;
  readonly key = undefined;
  readonly tags = NO_TAGS;
  readonly routingKey = undefined;
  readonly orderingKey = undefined;
  readonly deliveryAttempt = 1;
  readonly publishedAt = undefined;
  readonly native = undefined;
  settled = false;
  lease: object | undefined = undefined;
  constructor(id: string) {
    this.id = id;
  }
  get handle(): unknown {
    return this;
  }
}

const ownSlot = (d: StubDelivery): StubDelivery => d;

class StubConsumer implements DriverConsumer {
  readonly native: unknown = undefined;
  #buffer: StubDelivery[] = [];
  #ready: (() => void) | undefined;
  #inHand = 0;
  #pulling = false;
  #closed = false;
  readonly #leases = new Leases<StubDelivery>(() => {}, ownSlot);
  readonly #pull = (): void => this.#pulled();

  constructor() {
    this.#maybePull();
  }

  #maybePull(): void {
    if (this.#pulling || this.#closed || this.#buffer.length + this.#inHand > PREFETCH - PULL) return;
    this.#pulling = true;
    setImmediate(this.#pull);
  }

  #pulled(): void {
    this.#pulling = false;
    const out = new Array<StubDelivery>(PULL);
    for (let i = 0; i < PULL; i++) out[i] = new StubDelivery('m');
    if (this.#buffer.length === 0) this.#buffer = out;
    else for (const d of out) this.#buffer.push(d);
    this.#ready?.();
    this.#maybePull();
  }

  async receiveBatch(): Promise<Delivery[]> {
    throw new Error('push only');
  }

  onReady(ready: () => void): void {
    this.#ready = ready;
    if (this.#buffer.length > 0) ready();
  }

  takeReady(max: number): Delivery[] {
    const buffer = this.#buffer;
    let out: StubDelivery[];
    if (max >= buffer.length) {
      out = buffer;
      this.#buffer = [];
    } else out = buffer.splice(0, max);
    this.#leases.leaseAll(out, LEASE_MS);
    this.#inHand += out.length;
    return out;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    for (let i = 0; i < deliveries.length; i++) {
      const d = deliveries[i] as StubDelivery;
      if (d.settled) continue;
      d.settled = true;
      this.#leases.end(d);
      this.#inHand--;
    }
    this.#maybePull();
  }

  async nack(deliveries: readonly Delivery[]): Promise<void> {
    await this.ack(deliveries);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#leases.clear();
  }
}

const capabilities = remotingCapabilities();
registerDriver({
  name: 'runloop',
  schemes: ['runloop'],
  defaultCapabilities: capabilities,
  fromUrl: () => ({}),
  parseConfig: () => ({}),
  create: async () => ({
    name: 'runloop',
    capabilities,
    native: undefined,
    openProducer: () => Promise.reject(new Error('no producer')),
    openConsumer: async () => new StubConsumer(),
    close: async () => {},
  }),
} as unknown as DriverModule);

const broker = await connect('runloop://x');
const consumer = await broker.consumer('q', { group: 'g', prefetch: PREFETCH, concurrency: 32 });

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

let promises = 0;
const hook = createHook({
  init(_id, type) {
    if (type === 'PROMISE') promises++;
  },
});

const session = process.env.ALLOC === 'sites' ? new Session() : undefined;
session?.connect();

for (let i = 0; i < warm; i++) await runUntil(consumer, count);
await new Promise((r) => setImmediate(r));

for (let r = 0; r < rounds; r++) {
  if (session !== undefined)
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 64,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  const gcBefore = gcs;
  if (process.env.PROMISES) {
    promises = 0;
    hook.enable();
  }
  const heap = getHeapStatistics().used_heap_size;
  callgrind('-z');
  await runUntil(consumer, count);
  callgrind('-d');
  const allocated = getHeapStatistics().used_heap_size - heap;
  if (process.env.PROMISES) hook.disable();
  await new Promise((resolve) => setImmediate(resolve));
  const line = [`round ${r + 1}: ${count} messages`];
  if (process.env.ALLOC)
    line.push(`${(allocated / count).toFixed(1)} B allocated/msg (GCs in round ${gcs - gcBefore})`);
  if (process.env.PROMISES) line.push(`${(promises / count).toFixed(3)} promises/msg`);
  console.log(line.join(', '));
  if (session !== undefined) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const sites = new Map<string, number>();
    const walk = (node: typeof profile.head, stack: string): void => {
      const frame = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').slice(-1)[0]}:${node.callFrame.lineNumber + 1}`;
      const self = node.selfSize;
      if (self > 0) sites.set(frame, (sites.get(frame) ?? 0) + self);
      for (const child of node.children) walk(child, `${stack} > ${frame}`);
    };
    walk(profile.head, '');
    for (const [frame, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 15))
      console.log(`  ${(bytes / count).toFixed(1).padStart(7)} B/msg  ${frame}`);
  }
}

await consumer.close();
await broker.close();
