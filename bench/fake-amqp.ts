// An in-process stand-in for a RabbitMQ broker, for profiling the consume path without one: amqplib
// connections to FAKE_AMQP_URL get a stream wired to the code below instead of a TCP socket. It
// answers every synchronous method a client opens, declares and consumes with (all succeed), and
// pushes each consumer's deliveries in chunks of exactly `perRead` (one chunk per event-loop turn,
// never more than the channel's prefetch unacked), so both sides of a comparison read the same
// batches. Against a real broker the batch a socket read carries follows the machine's load, and
// under valgrind (which slows the client ≈ 50×, not the broker) it grows to the prefetch; here it
// is fixed, so instruction counts include per-batch work at the batch size the bench sees.
// Not a broker: no routing, no persistence, no redelivery; every consumer of a queue drains the
// same backlog, set with `fill`. Uses amqplib's own encoders for the frames it sends.

import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';

const require = createRequire(import.meta.url);
// amqplib's codec internals (not in its typings or its exports map): method/properties encoders
// and frame layout, loaded by path from the installed package.
const amqplibLib = join(dirname(require.resolve('amqplib')), 'lib');
const defs = require(join(amqplibLib, 'defs.js')) as {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, payload: Buffer): Record<string, unknown>;
  [name: string]: unknown;
};
const frame = require(join(amqplibLib, 'frame.js')) as {
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
};

export const FAKE_AMQP_URL = 'amqp://guest:guest@fake-amqp.invalid:5672';
const HOST = 'fake-amqp.invalid';
const FRAME_MAX = 131_072;
const id = (name: string) => defs[name] as number;

/** Synchronous methods answered with their -Ok and these fields (the rest take amqplib's defaults). */
const REPLIES: ReadonlyArray<[string, string, (f: Record<string, unknown>) => Record<string, unknown>]> = [
  ['ConnectionOpen', 'ConnectionOpenOk', () => ({ knownHosts: '' })],
  ['ChannelOpen', 'ChannelOpenOk', () => ({ channelId: Buffer.alloc(0) })],
  ['ExchangeDeclare', 'ExchangeDeclareOk', () => ({})],
  ['ExchangeDelete', 'ExchangeDeleteOk', () => ({})],
  ['ExchangeBind', 'ExchangeBindOk', () => ({})],
  [
    'QueueDeclare',
    'QueueDeclareOk',
    (f) => ({ queue: f.queue || 'amq.gen-fake', messageCount: 0, consumerCount: 0 }),
  ],
  ['QueueBind', 'QueueBindOk', () => ({})],
  ['QueueUnbind', 'QueueUnbindOk', () => ({})],
  ['QueuePurge', 'QueuePurgeOk', () => ({ messageCount: 0 })],
  ['QueueDelete', 'QueueDeleteOk', () => ({ messageCount: 0 })],
  ['BasicQos', 'BasicQosOk', () => ({})],
  ['ConfirmSelect', 'ConfirmSelectOk', () => ({})],
];

interface Consuming {
  readonly queue: string;
  readonly tag: string;
  /** One delivery's three frames, with its delivery tag at `tagAt`. */
  readonly template: Buffer;
  readonly tagAt: number;
}

interface ChannelState {
  prefetch: number;
  nextTag: number;
  acked: number;
  consuming: Consuming | undefined;
  confirms: boolean;
  published: number;
}

export interface FakeAmqpOptions {
  /** Deliveries per chunk pushed (per client socket read). */
  readonly perRead: number;
  readonly body: Buffer;
}

/** The fake's state: backlogs per queue, and counters for the report. */
export class FakeAmqp {
  readonly #options: FakeAmqpOptions;
  readonly #backlog = new Map<string, number>();
  /** Chunks pushed and deliveries in them, since the last `counters()`. */
  #chunks = 0;
  #delivered = 0;
  #ackFrames = 0;
  readonly #sockets = new Set<FakeSocket>();

  constructor(options: FakeAmqpOptions) {
    this.#options = options;
    const original = net.connect;
    // amqplib calls net.connect(options, onConnect) at connect time.
    (net as { connect: unknown }).connect = (opts: { host?: string }, onConnect?: () => void) => {
      if (opts?.host !== HOST) return (original as (...a: unknown[]) => unknown)(opts, onConnect);
      const socket = new FakeSocket(this);
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      if (onConnect) socket.once('connect', onConnect);
      process.nextTick(() => socket.emit('connect'));
      return socket;
    };
  }

  fill(queue: string, count: number): void {
    this.#backlog.set(queue, (this.#backlog.get(queue) ?? 0) + count);
    for (const socket of this.#sockets) socket.schedule();
  }

  counters(): { chunks: number; delivered: number; ackFrames: number } {
    const out = { chunks: this.#chunks, delivered: this.#delivered, ackFrames: this.#ackFrames };
    this.#chunks = this.#delivered = this.#ackFrames = 0;
    return out;
  }

  /** @internal Up to `max` of the queue's backlog, taken. */
  take(queue: string, max: number): number {
    const n = Math.min(max, this.#backlog.get(queue) ?? 0);
    this.#backlog.set(queue, (this.#backlog.get(queue) ?? 0) - n);
    return n;
  }

  /** @internal */
  counted(chunkDeliveries: number): void {
    this.#chunks++;
    this.#delivered += chunkDeliveries;
  }

  /** @internal */
  ackFrame(): void {
    this.#ackFrames++;
  }

  get options(): FakeAmqpOptions {
    return this.#options;
  }
}

/** The client's end of the "socket": what it writes is parsed and answered here. */
class FakeSocket extends Duplex {
  readonly #fake: FakeAmqp;
  #in: Buffer = Buffer.alloc(0);
  #started = false;
  readonly #channels = new Map<number, ChannelState>();
  #pumping = false;
  #ended = false;

  constructor(fake: FakeAmqp) {
    super();
    this.#fake = fake;
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#receive(chunk);
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    for (const { chunk } of chunks) this.#receive(chunk);
    callback();
  }

  override _final(callback: () => void): void {
    this.#end();
    callback();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.push(null);
  }

  #receive(chunk: Buffer): void {
    this.#in = this.#in.length === 0 ? chunk : Buffer.concat([this.#in, chunk]);
    if (!this.#started) {
      if (this.#in.length < 8) return;
      this.#in = this.#in.subarray(8);
      this.#started = true;
      this.#send(
        defs.encodeMethod(id('ConnectionStart'), 0, {
          versionMajor: 0,
          versionMinor: 9,
          serverProperties: { product: 'fake-amqp', capabilities: { publisher_confirms: true } },
          mechanisms: Buffer.from('PLAIN'),
          locales: Buffer.from('en_US'),
        }),
      );
    }
    while (this.#in.length >= 8) {
      const size = this.#in.readUInt32BE(3);
      if (this.#in.length < size + 8) return;
      const type = this.#in[0]!;
      const channel = this.#in.readUInt16BE(1);
      const payload = this.#in.subarray(7, 7 + size);
      this.#in = this.#in.subarray(size + 8);
      if (type === 1) this.#method(channel, payload.readUInt32BE(0), payload.subarray(4));
    }
  }

  #send(bytes: Buffer): void {
    if (!this.#ended) this.push(bytes);
  }

  #state(channel: number): ChannelState {
    let state = this.#channels.get(channel);
    if (state === undefined) {
      state = { prefetch: 0, nextTag: 1, acked: 0, consuming: undefined, confirms: false, published: 0 };
      this.#channels.set(channel, state);
    }
    return state;
  }

  #method(channel: number, method: number, args: Buffer): void {
    const fields = defs.decode(method, args);
    const state = this.#state(channel);
    switch (method) {
      case id('ConnectionStartOk'):
        this.#send(
          defs.encodeMethod(id('ConnectionTune'), 0, { channelMax: 2047, frameMax: FRAME_MAX, heartbeat: 0 }),
        );
        return;
      case id('ConnectionTuneOk'):
        return;
      case id('ConnectionClose'):
        this.#send(defs.encodeMethod(id('ConnectionCloseOk'), 0, {}));
        setImmediate(() => this.#end());
        return;
      case id('ChannelClose'):
        this.#channels.delete(channel);
        this.#send(defs.encodeMethod(id('ChannelCloseOk'), channel, {}));
        return;
      case id('BasicQos'):
        state.prefetch = fields.prefetchCount as number;
        break;
      case id('ConfirmSelect'):
        state.confirms = true;
        break;
      case id('BasicConsume'): {
        const tag = (fields.consumerTag as string) || `ctag-fake-${channel}`;
        state.consuming = this.#consuming(channel, fields.queue as string, tag);
        if (!fields.nowait)
          this.#send(defs.encodeMethod(id('BasicConsumeOk'), channel, { consumerTag: tag }));
        this.#schedule();
        return;
      }
      case id('BasicCancel'):
        state.consuming = undefined;
        if (!fields.nowait)
          this.#send(defs.encodeMethod(id('BasicCancelOk'), channel, { consumerTag: fields.consumerTag }));
        return;
      case id('BasicAck'):
      case id('BasicNack'):
      case id('BasicReject'): {
        const tag = Number(fields.deliveryTag);
        this.#fake.ackFrame();
        // Only multiple acks move the count exactly; a single ack counts as one.
        if (fields.multiple) state.acked = Math.max(state.acked, tag);
        else state.acked++;
        this.#schedule();
        return;
      }
      case id('BasicPublish'):
        if (state.confirms)
          this.#send(
            defs.encodeMethod(id('BasicAck'), channel, { deliveryTag: ++state.published, multiple: false }),
          );
        return;
    }
    for (const [request, reply, make] of REPLIES) {
      if (method !== id(request)) continue;
      if (!fields.nowait) this.#send(defs.encodeMethod(id(reply), channel, make(fields)));
      return;
    }
  }

  #consuming(channel: number, queue: string, tag: string): Consuming {
    const { body } = this.#fake.options;
    const deliver = (deliveryTag: number) =>
      defs.encodeMethod(id('BasicDeliver'), channel, {
        consumerTag: tag,
        deliveryTag,
        redelivered: false,
        exchange: 'fake',
        routingKey: '',
      });
    const a = deliver(1);
    const b = deliver(2);
    let tagAt = 0;
    while (a[tagAt] === b[tagAt]) tagAt++;
    tagAt -= 7; // the tag is a 64-bit integer ending at the differing byte
    const header = defs.encodeProperties(id('BasicProperties'), channel, body.length, {
      contentType: 'application/octet-stream',
      deliveryMode: 2,
      messageId: 'r-000000',
      headers: {},
    });
    const bodies: Buffer[] = [];
    for (let at = 0; at < body.length; at += FRAME_MAX - 8)
      bodies.push(frame.makeBodyFrame(channel, body.subarray(at, at + FRAME_MAX - 8)));
    return { queue, tag, template: Buffer.concat([a, header, ...bodies]), tagAt };
  }

  /** @internal Pushes what consuming channels have credit for, from the next turn on. */
  schedule(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#pumping || this.#ended) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      this.#pump();
    });
  }

  /** One chunk of up to perRead deliveries per consuming channel with credit, then again next turn. */
  #pump(): void {
    let more = false;
    for (const [, state] of this.#channels) {
      const consuming = state.consuming;
      if (consuming === undefined) continue;
      const credit =
        state.prefetch === 0 ? Number.POSITIVE_INFINITY : state.prefetch - (state.nextTag - 1 - state.acked);
      const n = this.#fake.take(consuming.queue, Math.min(this.#fake.options.perRead, credit));
      if (n === 0) continue;
      const { template, tagAt } = consuming;
      const chunk = Buffer.allocUnsafe(template.length * n);
      for (let i = 0; i < n; i++) {
        template.copy(chunk, i * template.length);
        chunk.writeBigUInt64BE(BigInt(state.nextTag++), i * template.length + tagAt);
      }
      this.#fake.counted(n);
      this.#send(chunk);
      more = true;
    }
    if (more) this.#schedule();
  }
}
