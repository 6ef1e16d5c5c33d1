// One MQTT bench phase alone, for `node --cpu-prof` or repeated timing (bench/mqtt.ts runs both
// sides and both phases at both sizes). Warms up once, then runs the phase `rounds` times and
// prints each round's rate and process CPU per message (and the main thread's share, from
// /proc/self/task/*/schedstat); `both` alternates the two sides each round and prints the paired
// Switchyard / raw ratios, as bench/mqtt.ts does.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-mqtt.ts \
//   sy|raw|both publish|e2e [bytes] [messages] [rounds]
//
// `drv` is the driver alone on the broker, in the shape core gives it. Publish: 1,000 messages
// unconfirmed at most, refilled once per event-loop turn with what was confirmed, in sendBatch
// calls of up to maxBatchSize (250), each message settled by its own `confirmed` call; its
// messages are made as core makes them (id, send time, content type). End to end: the same
// publisher (at most AHEAD in front), and a consumer loop of receiveBatch(PREFETCH), the handler
// per delivery, then ack of what that receive returned (PUBACK after the handler, one write per
// receive). So sy − drv is core's share, drv − raw the driver's and the batch shape's:
//   bench/profile-mqtt.ts all publish 256 20000 8   (raw, drv and sy each round, rotating)
//
// `defaults` runs raw, `syd` and sy (publish): syd is Switchyard with MQTT.js's default logger
// (`debug`) put back on its producer connection, so sy / syd is the driver's no-op logger measured
// paired in one process.
// `ab` is a paired before/after of a driver change in one process: `syb` is Switchyard over the
// mqtt driver loaded from MQTT_B_DIR (a copy of packages/mqtt/dist built before the change, kept
// inside packages/mqtt so it imports the same MQTT.js and core, under node_modules so git and the
// duplicates check leave it alone), registered under the scheme mqtt-b; sy is the current build. Each round runs both, the order alternating, and prints sy / syb;
// the medians of those ratios close the run:
//   MQTT_B_DIR=packages/mqtt/node_modules/.dist-base npx tsx bench/profile-mqtt.ts ab e2e 16384 2000 20
// ALLOC=n (any broker mode): instead of timing, each side's phase under V8's sampling heap
// profiler: bytes allocated per message on the JS heap, by owner and the n largest sites.
//   node --import tsx --conditions=switchyard-source bench/profile-mqtt.ts defaults publish 256 20000 10
//   ALLOC=12 node --import tsx --conditions=switchyard-source bench/profile-mqtt.ts all publish 256 20000 2
//
// COUNT=1 (any broker mode): per message, promises made, socket writes (and the chunks and bytes
// each carries) and socket reads, over the phase, instead of timing.
// CALLGRIND=1, under valgrind: instructions per message of each measured phase alone (the counters
// are zeroed as it starts and dumped as it ends; `#dump <n> <side>` names each dump):
//   CALLGRIND=1 valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=<dir>/cg.%p \
//     node --perf-basic-prof --import tsx bench/profile-mqtt.ts both publish 256 1000 4
// GC=1 (with node --expose-gc): a full GC after each side's phase, marked `@@gc after <round> <side>`,
// so --trace-opt --trace-deopt show what V8 throws away ("weak objects") and what the next phase
// compiles again, the same way every round. MQTT_URL: another broker (default 127.0.0.1:1883).
//
// `driver` needs no broker: the driver's own per-message work on both paths, over a stand-in
// MQTT.js client (MQTT.js's own work, shared with raw, is left out), so allocation and CPU per
// message of the driver's encode and decode can be compared before and after a change:
//   encode: MqttProducer.sendBatch of `batch` messages, each PUBLISH acknowledged (PUBACK 0x10, as
//           the bench's topic nobody subscribes to gets) by the stand-in once the batch is written;
//   decode: `batch` parsed PUBLISH packets (Switchyard's properties) through the consumer's
//           handleMessage hook, receiveBatch and ack (the PUBACK bytes written once per batch).
// node --expose-gc --max-semi-space-size=64 --import tsx --conditions=switchyard-source \
//   bench/profile-mqtt.ts driver encode|decode [bytes] [messages] [rounds] [batch]
// Bytes allocated per message are heapUsed after minus before, checked free of GCs in between
// (a PerformanceObserver counts them; a round that had one says so). MQTT_DRIVER_DIR=<dir> loads
// producer.js/consumer.js/properties.js from another build (a copy of dist/ before a change).

import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connect, registerDriver } from '@switchyard/core';
import type { Delivery, DriverProducer, Outgoing } from '@switchyard/core/driver';
import { driver as mqttDriver } from '@switchyard/mqtt';
import type { MqttClient } from 'mqtt';
import mqttPacket, { type IPublishPacket } from 'mqtt-packet';
import { callgrind as callgrindControl } from './callgrind.js';
import { benchConsumerOptions, concurrently, cpuOf, measure, type Phase, rateOf } from './measure.js';
import { AHEAD, type Contender, PREFETCH, rawContender, switchyardContender } from './mqtt.js';
import { threadCpu } from './thread-cpu.js';

const [which = 'sy', phase = 'publish'] = process.argv.slice(2, 4);
const bytes = Number(process.argv[4] ?? 256);
const count = Number(process.argv[5] ?? 5_000);
const rounds = Number(process.argv[6] ?? 5);
// MQTT_URL: another broker (a private Mosquitto with its own settings), else the bench's.
const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** Without /proc: no split, both stay 0. */
const NO_THREADS = { main: 0, others: 0 };

const WINDOW = 1_000;

/**
 * Messages as core's Producer hands them to a driver: an id made as core makes ids (a random
 * per-process prefix and a counter), the send time, the content type core gives bytes.
 */
function outgoingMaker(body: Buffer): () => Outgoing {
  const prefix = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}-`;
  let counter = 0;
  return () =>
    ({
      id: prefix + (++counter).toString(36),
      body,
      text: undefined,
      contentType: 'application/octet-stream',
      headers: {},
      key: undefined,
      tags: [],
      routingKey: undefined,
      orderingKey: undefined,
      publishedAt: Date.now(),
    }) as unknown as Outgoing;
}

async function brokerMode(): Promise<void> {
  const totals: Record<string, number> = {};
  const id = randomBytes(3).toString('hex');
  const keys =
    which === 'both'
      ? ['sy', 'raw']
      : which === 'all'
        ? ['raw', 'drv', 'sy']
        : which === 'defaults'
          ? ['raw', 'syd', 'sy']
          : which === 'ab'
            ? ['syb', 'sy']
            : [which];
  const sides: Record<string, Contender> = {};
  const open = {
    raw: rawContender,
    // Under valgrind a cold phase outlasts core's default 30 s send deadline.
    sy: (u: string, i: string) =>
      switchyardContender(u, i, process.env.CALLGRIND ? { retry: { deadlineMs: 3_600_000 } } : undefined),
    drv: driverContender,
    syd: mqttDefaultsContender,
    syb: driverBContender,
  };
  for (const key of keys) sides[key] = await open[key as keyof typeof open](url, id);
  const body = randomBytes(bytes);
  // One topic per side and phase kind, the same every round, as bench/mqtt.ts.
  const run = (key: string) => {
    const side = sides[key]!;
    const topic = `bench/${id}/${key}`;
    return phase === 'e2e'
      ? side.endToEnd(`${topic}/e2e`, body, count)
      : side.publish(`${topic}/nobody`, body, count);
  };
  const main: Record<string, number> = {};
  /** `ab`: sy / syb per round. */
  const pairs = { rate: [] as number[], cpu: [] as number[], main: [] as number[] };
  const gcMs: Record<string, number> = {};
  // GC pauses on the main thread (the PerformanceObserver's entries arrive a little later: a
  // phase's share is read after the next one starts, close enough at thousands of messages).
  let paused = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) paused += entry.duration;
  }).observe({ entryTypes: ['gc'] });
  const show = (key: string, p: Phase) =>
    `${key} ${Math.round(rateOf(p)).toLocaleString('en')} msg/s ${cpuOf(p).toFixed(1)} µs/msg (main ${main[key]!.toFixed(1)}, GC pauses ${gcMs[key]!.toFixed(1)}, faults ${((p.faults ?? 0) / count).toFixed(2)})`;
  for (const key of keys) await run(key);
  if (process.env.COUNT !== undefined) {
    for (let i = 0; i < rounds; i++) for (const key of keys) await countPerMessage(key, () => run(key));
    for (const side of Object.values(sides)) await side.close();
    return;
  }
  if (process.env.ALLOC !== undefined) {
    for (let i = 0; i < rounds; i++) for (const key of keys) await sampleAllocations(key, () => run(key));
    for (const side of Object.values(sides)) await side.close();
    return;
  }
  for (let i = 0; i < rounds; i++) {
    const phases: Record<string, Phase> = {};
    for (let k = 0; k < keys.length; k++) {
      const key = keys[(k + i) % keys.length]!;
      const before = threadCpu() ?? NO_THREADS;
      const pausedBefore = paused;
      callgrind('-z');
      phases[key] = await measure(count, () => run(key));
      callgrind('-d', key);
      main[key] = ((threadCpu() ?? NO_THREADS).main - before.main) / 1_000 / count;
      // GC=1 (node --expose-gc): a full GC after each side's phase, so what V8 throws away when a
      // mark-compact finds none of a side's per-phase objects alive (maps, and code that depends on
      // them) is counted the same way every round (with --trace-opt --trace-deopt; see §28.4).
      if (process.env.GC !== undefined) {
        console.log(`@@gc after ${i} ${key}`);
        (globalThis as { gc?: () => void }).gc?.();
        console.log(`@@gc done ${i} ${key}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      gcMs[key] = ((paused - pausedBefore) * 1_000) / count;
    }
    const line = keys.map((key) => show(key, phases[key]!)).join(' | ');
    const { sy, raw, syb } = phases;
    const base = raw ?? syb;
    const ratio =
      sy && base
        ? ` | ×${(rateOf(sy) / rateOf(base)).toFixed(2)} cpu ×${(cpuOf(sy) / cpuOf(base)).toFixed(2)}`
        : '';
    if (sy && syb) {
      pairs.rate.push(rateOf(sy) / rateOf(syb));
      pairs.cpu.push(cpuOf(sy) / cpuOf(syb));
      pairs.main.push(main.sy! / main.syb!);
    }
    for (const key of keys) {
      totals[key] = (totals[key] ?? 0) + main[key]!;
      totals[`${key} cpu`] = (totals[`${key} cpu`] ?? 0) + cpuOf(phases[key]!);
      totals[`${key} gc`] = (totals[`${key} gc`] ?? 0) + gcMs[key]!;
      totals[`${key} faults`] = (totals[`${key} faults`] ?? 0) + (phases[key]!.faults ?? 0) / count;
    }
    console.log(`${phase} ${bytes} B: ${line}${ratio}`);
  }
  if (rounds > 1 && keys.length > 1) {
    const mean = (suffix: string) =>
      keys.map((key) => `${key} ${(totals[`${key}${suffix}`]! / rounds).toFixed(2)}`).join(', ');
    console.log(`µs/msg, mean of ${rounds} rounds: process CPU ${mean(' cpu')}`);
    console.log(
      `  main thread ${mean('')}; GC pauses ${mean(' gc')}; minor page faults per message ${mean(' faults')}`,
    );
  }
  if (pairs.rate.length > 0) {
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(3);
    console.log(
      `sy / syb, median of ${pairs.rate.length} per-round ratios: rate ${median(pairs.rate)}, process CPU ${median(pairs.cpu)}, main thread ${median(pairs.main)}`,
    );
  }
  for (const side of Object.values(sides)) await side.close();
}

let dumps = 0;
/** CALLGRIND=1: the shared control, printing which side each numbered dump is. */
function callgrind(command: '-z' | '-d', key?: string): void {
  callgrindControl(command);
  if (process.env.CALLGRIND && command === '-d') console.log(`#dump ${++dumps} ${key}`);
}

/**
 * COUNT=1: what one phase does per message, in counts that do not depend on the load: promises made
 * (async_hooks PROMISE inits), socket writes (`_write`/`_writev` calls, the chunks they carry and
 * their bytes) and socket reads (chunks a socket pushes), over every socket of the process.
 */
async function countPerMessage(key: string, work: () => Promise<void>): Promise<void> {
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++;
    },
  });
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = { _write: proto._write!, _writev: proto._writev!, push: proto.push! };
  const n = { writes: 0, chunks: 0, bytes: 0, reads: 0, read: 0 };
  proto._write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    n.writes++;
    n.chunks++;
    n.bytes += (chunk as Buffer).length;
    return saved._write.call(this, chunk, ...rest);
  };
  proto._writev = function (this: unknown, chunks: unknown, ...rest: unknown[]) {
    n.writes++;
    for (const { chunk } of chunks as Array<{ chunk: Buffer }>) {
      n.chunks++;
      n.bytes += chunk.length;
    }
    return saved._writev.call(this, chunks, ...rest);
  };
  proto.push = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    if (chunk !== null && chunk !== undefined) {
      n.reads++;
      n.read += (chunk as Buffer).length;
    }
    return saved.push.call(this, chunk, ...rest);
  };
  hook.enable();
  try {
    await work();
  } finally {
    hook.disable();
    Object.assign(proto, saved);
  }
  const per = (x: number) => (x / count).toFixed(3);
  console.log(
    `${key} ${phase} ${bytes} B per message: promises ${per(promises)}, socket writes ${per(n.writes)} (${(n.chunks / n.writes).toFixed(1)} chunks, ${Math.round(n.bytes / n.writes)} B each), reads ${per(n.reads)} (${Math.round(n.read / n.reads)} B each)`,
  );
}

/**
 * ALLOC=1: what one phase allocates per message on the JS heap (collected objects included: V8's
 * sampling heap profiler at every 256 B), summed by allocating function and by owner (core, the
 * driver, MQTT.js and its packet libraries, Node). Buffers' bytes outside the heap are not counted.
 */
async function sampleAllocations(key: string, work: () => Promise<void>): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await work();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const bySite = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const add = (map: Map<string, number>, name: string, size: number) =>
    map.set(name, (map.get(name) ?? 0) + size);
  const ownerOf = (url: string) =>
    /packages\/core\//.test(url)
      ? 'core'
      : /packages\/mqtt\//.test(url)
        ? 'driver'
        : /node_modules\/(mqtt|mqtt-packet|bl|rfdc|readable-stream|number-allocator)\//.test(url)
          ? 'MQTT.js'
          : /bench\//.test(url)
            ? 'bench'
            : url === '' || url.startsWith('node:')
              ? 'node'
              : 'other';
  let total = 0;
  const visit = (node: typeof profile.head) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(
        bySite,
        `${functionName || '(anon)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`,
        node.selfSize,
      );
      add(byOwner, ownerOf(url), node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  const per = (size: number) => (size / count).toFixed(0);
  const owners = [...byOwner].sort((a, b) => b[1] - a[1]).map(([name, size]) => `${name} ${per(size)}`);
  console.log(`${key} ${phase} ${bytes} B: ${per(total)} B/msg allocated (${owners.join(', ')})`);
  for (const [site, size] of [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.ALLOC ?? 12)))
    console.log(`  ${per(size).padStart(6)} B  ${site}`);
}

/**
 * `syd` (publish only): Switchyard with MQTT.js's default logger, `debug('mqttjs:client')`, back on
 * its producer connection (the driver gives a no-op one: packages/mqtt/src/connection.ts).
 * `defaults` runs raw, syd and sy in rotating order: the paired before/after of that change.
 */
async function mqttDefaultsContender(url: string, id: string): Promise<Contender> {
  const broker = await connect(`${url}?clientIdPrefix=bench-syd-${id}-`);
  const createDebug = createRequire(import.meta.url)('debug') as (namespace: string) => MqttClient['log'];
  const restore = () => {
    const client = broker.unwrap<MqttClient>();
    client.log = createDebug('mqttjs:client');
  };
  return {
    async publish(topic, body, count) {
      const producer = await broker.producer(topic);
      restore();
      await concurrently(count, WINDOW, () => producer.send({ body }));
      await producer.close();
    },
    endToEnd: () => Promise.reject(new Error('syd: publish only')),
    close: () => broker.close(),
  };
}

/** `syb`: Switchyard over the mqtt driver built in MQTT_B_DIR, under the scheme mqtt-b (see `ab`). */
async function driverBContender(url: string, id: string): Promise<Contender> {
  const dir = process.env.MQTT_B_DIR;
  if (dir === undefined) throw new Error('ab: set MQTT_B_DIR to a copy of packages/mqtt/dist');
  const { driver } = (await import(pathToFileURL(`${dir.replace(/\/?$/, '/')}index.js`).href)) as {
    driver: typeof mqttDriver;
  };
  const name = 'mqtt-b';
  registerDriver({
    ...driver,
    name,
    schemes: [name],
    fromUrl: (u) => driver.fromUrl(new URL(u.href.replace(`${name}:`, 'mqtt:'))),
  } as typeof mqttDriver);
  const side = await switchyardContender(url.replace(/^mqtt:/, `${name}:`), `${id}b`);
  return side;
}

/** The driver alone (publish only), fed as core's Producer feeds it: see the header. */
async function driverContender(url: string, id: string): Promise<Contender> {
  const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  const config = mqttDriver.fromUrl(new URL(`${url}?clientIdPrefix=bench-drv-${id}-`));
  const instance = await mqttDriver.create(config, { logger, status() {} } as never);
  /** `consumed` (end to end): how many the consumer handled; the publisher stays AHEAD in front and
   * `nudged` gets the function the consumer calls after each ack to let it go on. */
  const publish = async (
    topic: string,
    body: Buffer,
    count: number,
    consumed?: () => number,
    nudged?: (refill: () => void) => void,
  ) => {
    const producer: DriverProducer = await instance.openProducer(topic, { driverOptions: {} } as never);
    const message = outgoingMaker(body);
    let sent = 0;
    let confirmed = 0;
    let free = 0;
    let scheduled = false;
    await new Promise<void>((resolve, reject) => {
      const schedule = () => {
        if (!scheduled && sent < count) {
          scheduled = true;
          setImmediate(refill);
        }
      };
      const onConfirm = () => {
        confirmed++;
        free++;
        if (confirmed === count) resolve();
        else schedule();
      };
      const send = (n: number) => {
        for (let left = n; left > 0; ) {
          const size = Math.min(left, 250);
          const batch = Array.from({ length: size }, message);
          sent += size;
          left -= size;
          producer.sendBatch(batch, undefined, onConfirm).catch(reject);
        }
      };
      const refill = () => {
        scheduled = false;
        const ahead = consumed === undefined ? Number.POSITIVE_INFINITY : AHEAD - (sent - consumed());
        const n = Math.max(0, Math.min(free, ahead, count - sent));
        free -= n;
        send(n);
      };
      nudged?.(schedule);
      free = WINDOW;
      refill();
    });
    await producer.close();
  };
  return {
    publish: async (topic, body, count) => {
      await publish(topic, body, count);
    },
    async endToEnd(topic, body, count) {
      const consumer = await instance.openConsumer(topic, benchConsumerOptions(PREFETCH));
      let handled = 0;
      let nudge: (() => void) | undefined;
      const consuming = (async () => {
        while (handled < count) {
          const deliveries = await consumer.receiveBatch(PREFETCH, 1_000);
          for (const _delivery of deliveries) handled++; // the handler
          await consumer.ack(deliveries);
          nudge?.();
        }
      })();
      await Promise.all([
        publish(
          topic,
          body,
          count,
          () => handled,
          (refill) => {
            nudge = refill;
          },
        ),
        consuming,
      ]);
      nudge = undefined;
      await consumer.close({ deadline: Date.now() + 10_000 });
    },
    close: () => instance.close(),
  };
}

/** A stand-in MQTT.js client: what the driver's producer and consumer touch, and nothing more. */
class StandIn extends EventEmitter {
  connected = true;
  reconnecting = false;
  readonly options = { clientId: 'profile' };
  writes = 0;
  readonly stream = { write: (_bytes: Uint8Array) => ++this.writes > 0 };
  #nextId = 0;
  readonly #pending: Array<{ id: number; callback: (error: Error | null, packet: unknown) => void }> = [];
  handleMessage: (packet: IPublishPacket, callback: (error?: Error) => void) => void = (_p, cb) => cb();

  publish(_topic: string, _payload: Buffer, _opts: unknown, callback: (e: Error | null, p: unknown) => void) {
    this.#nextId = (this.#nextId % 65_535) + 1;
    this.#pending.push({ id: this.#nextId, callback });
    return this;
  }

  /** PUBACKs (reason 0x10: no subscriber) for everything published, as MQTT.js reports them. */
  pubackAll(): void {
    for (const { id, callback } of this.#pending.splice(0)) {
      this.emit('packetreceive', { cmd: 'puback', messageId: id, reasonCode: 0x10 });
      callback(null, { cmd: 'publish', messageId: id });
    }
  }
}

async function driverMode(): Promise<void> {
  const batch = Number(process.argv[7] ?? 64);
  const dir = process.env.MQTT_DRIVER_DIR ?? new URL('../packages/mqtt/src/', import.meta.url).pathname;
  const load = (file: string) => import(pathToFileURL(`${dir.replace(/\/?$/, '/')}${file}`).href);
  const { MqttProducer } = await load('producer.js');
  const { MqttConsumer } = await load('consumer.js');
  const { parseConfig } = await load('config.js');
  const config = parseConfig({ host: '127.0.0.1' });
  const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  const client = new StandIn();
  const body = randomBytes(bytes);
  const outgoing = outgoingMaker(body);
  // What MQTT.js hands the consumer: packets parsed from the bytes a Switchyard producer sends.
  const parsed: IPublishPacket[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  parser.on('packet', (p) => parsed.push(p as IPublishPacket));
  for (let i = 0; i < batch; i++) {
    const o = outgoing();
    parser.parse(
      mqttPacket.generate(
        {
          cmd: 'publish',
          topic: 'bench/profile',
          payload: body,
          qos: 1,
          dup: false,
          retain: false,
          messageId: i + 1,
          properties: {
            contentType: o.contentType!,
            userProperties: { 'x-switchyard-id': o.id, 'x-switchyard-published': String(o.publishedAt) },
          },
        },
        { protocolVersion: 5 },
      ),
    );
  }
  const producer = new MqttProducer(client, 'bench/profile/nobody', config, 5, logger);
  const consumer = new MqttConsumer({
    source: 'bench/profile',
    group: 'bench',
    filters: ['bench/profile/#'],
    version: 5,
    logger,
    endSession: async () => true,
    release: () => {},
  });
  consumer.attach(client);
  const messages = Array.from({ length: batch }, outgoing);
  const noop = () => {};
  const encode = async (n: number) => {
    const signal = new AbortController().signal;
    for (let done = 0; done < n; done += batch) {
      const results = producer.sendBatch(messages, signal, noop);
      client.pubackAll();
      await results;
    }
  };
  const decode = async (n: number) => {
    for (let done = 0; done < n; done += batch) {
      for (const packet of parsed) client.handleMessage(packet, noop);
      const deliveries: Delivery[] = await consumer.receiveBatch(batch, 0);
      await consumer.ack(deliveries);
    }
  };
  const work = phase === 'decode' ? decode : encode;
  let gcs = 0;
  new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  const gc = (globalThis as { gc?: () => void }).gc;
  await work(Math.max(count, 20_000)); // warm-up: TurboFan compiles the paths
  for (let r = 0; r < rounds; r++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the forced GC's entry comes first
    const startGcs = gcs;
    const heap = process.memoryUsage().heapUsed;
    const cpu = threadCpu() ?? NO_THREADS;
    await work(count);
    const main = ((threadCpu() ?? NO_THREADS).main - cpu.main) / 1_000 / count;
    const allocated = (process.memoryUsage().heapUsed - heap) / count;
    await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries are observed later
    const clean = gcs === startGcs ? '' : ` (${gcs - startGcs} GCs: bytes not counted)`;
    console.log(
      `driver ${phase} ${bytes} B, batches of ${batch}: ${main.toFixed(3)} µs/msg main thread, ${gcs === startGcs ? allocated.toFixed(0) : '?'} B/msg allocated${clean}; ${client.writes} writes so far`,
    );
  }
}

if (which === 'driver') await driverMode();
else await brokerMode();
