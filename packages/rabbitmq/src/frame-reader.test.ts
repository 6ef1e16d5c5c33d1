// The driver's frame reader: the frames amqplib's connection gets from it, whatever the socket's
// chunking, and (on the real broker at 127.0.0.1:5672) bodies of every size around the frame
// boundary consumed through the driver byte for byte, with no concatenation on the way.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, registerDriver } from '@switchyard/core';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import { driver } from './driver.js';
import { amqplibFrameDecoder, FrameReader, readFramesWhole } from './frame-reader.js';

const FRAME_MAX = 4096;

function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([206])]);
}

/** A header frame announcing a body of `size` (class 60, weight 0, size, no property flags). */
function headerFrame(channel: number, size: number): Buffer {
  const payload = Buffer.alloc(14);
  payload.writeUInt16BE(60, 0);
  payload.writeBigUInt64BE(BigInt(size), 4);
  return frame(2, channel, payload);
}

/** A message's header and body frames, the body cut at frame_max as a broker cuts it. */
function message(channel: number, body: Buffer): Buffer[] {
  const frames = [frame(1, channel, Buffer.from([0, 60, 0, 60, channel])), headerFrame(channel, body.length)];
  for (let at = 0; at < body.length; at += FRAME_MAX - 8)
    frames.push(frame(3, channel, body.subarray(at, at + FRAME_MAX - 8)));
  return frames;
}

type Out =
  | { kind: 'body'; channel: number; content: Buffer }
  | { kind: 'other'; type: number; channel: number; size?: number; payload: Buffer };

/** What the reader reads of amqplib's connection, over a socket that yields `chunks`. */
function connectionState(chunks: Buffer[]) {
  return {
    rest: Buffer.alloc(0),
    frameMax: FRAME_MAX,
    maxFrameSize: 64 * 1024 * 1024,
    recvSinceLastCheck: false,
    stream: { read: () => chunks.shift() ?? null },
  };
}

/** A connection shaped as amqplib's, whose own recvFrame decodes `rest` as amqplib's does (enough of it). */
function fakeConnection(chunks: Buffer[]) {
  const connection = {
    ...connectionState(chunks),
    recvFrame(this: { rest: Buffer }): Out | false {
      const bin = this.rest;
      if (bin.length < 7) return false;
      const size = bin.readUInt32BE(3);
      if (bin.length < size + 8) return false;
      const payload = bin.subarray(7, 7 + size);
      this.rest = bin.subarray(size + 8);
      const type = bin[0]!;
      const out: Out = { kind: 'other', type, channel: bin.readUInt16BE(1), payload: Buffer.from(payload) };
      if (type === 2) out.size = Number(payload.readBigUInt64BE(4));
      return out;
    },
  };
  return connection;
}

/** Chunk sizes from 1 to `max`, the same sequence every run. */
function seededCuts(max: number): () => number {
  let seed = 12345;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return 1 + (seed % max);
  };
}

function readAll(bytes: Buffer, cut: (left: number) => number): Out[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, Math.min(bytes.length - at, cut(bytes.length - at)));
    chunks.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  const connection = fakeConnection(chunks);
  expect(readFramesWhole(connection)).toBe(true);
  const out: Out[] = [];
  for (;;) {
    const f = connection.recvFrame() as Out | { channel: number; content: Buffer } | false;
    if (f === false) break;
    out.push('content' in f ? { kind: 'body', channel: f.channel, content: Buffer.from(f.content) } : f);
  }
  expect(connection.recvSinceLastCheck).toBe(true);
  return out;
}

describe('FrameReader', () => {
  const big = randomBytes(3 * (FRAME_MAX - 8) + 123);
  const exact = randomBytes(FRAME_MAX - 8);
  const small = randomBytes(10);
  const heartbeat = frame(8, 0, Buffer.alloc(0));
  // Channel 2's message interleaves with channel 1's body frames, as a broker may send them.
  const one = message(1, big);
  const two = message(2, small);
  const stream = Buffer.concat([
    ...one.slice(0, 3),
    ...two,
    heartbeat,
    ...one.slice(3),
    ...message(3, exact),
    ...message(1, Buffer.alloc(0)),
  ]);
  const expected = [
    { kind: 'other', type: 1, channel: 1 },
    { kind: 'other', type: 2, channel: 1, size: big.length },
    { kind: 'other', type: 1, channel: 2 },
    { kind: 'other', type: 2, channel: 2, size: small.length },
    { kind: 'body', channel: 2, content: small },
    { kind: 'other', type: 8, channel: 0 },
    { kind: 'body', channel: 1, content: big },
    { kind: 'other', type: 1, channel: 3 },
    { kind: 'other', type: 2, channel: 3, size: exact.length },
    { kind: 'body', channel: 3, content: exact },
    { kind: 'other', type: 1, channel: 1 },
    { kind: 'other', type: 2, channel: 1, size: 0 },
  ];

  for (const [label, cut] of [
    ['one chunk', (left: number) => left],
    ['one byte at a time', () => 1],
    ['7-byte chunks (frame headers split)', () => 7],
    ['chunks of 1,000', () => 1_000],
    ['chunks of seeded random sizes', seededCuts(3 * FRAME_MAX)],
  ] as const) {
    it(`hands amqplib whole bodies and its other frames unchanged: ${label}`, () => {
      expect(readAll(stream, cut)).toMatchObject(expected);
    });
  }

  it('takes over what amqplib read before it, and waits for the rest of a frame', () => {
    const bytes = Buffer.concat(message(1, big));
    const connection = fakeConnection([bytes.subarray(20, 5_000), bytes.subarray(5_000)]);
    connection.rest = bytes.subarray(0, 20);
    const reader = new FrameReader(connection);
    const frames = [reader.next(), reader.next(), reader.next(), reader.next()];
    expect(frames[2]).toEqual({ channel: 1, content: big });
    expect(frames[3]).toBe(false);
  });

  it('refuses a frame with a bad end octet, a frame over maxFrameSize, and too much content', () => {
    const bad = frame(1, 1, Buffer.from([1, 2, 3]));
    bad[bad.length - 1] = 0;
    expect(() => new FrameReader(fakeConnection([bad])).next()).toThrow('Invalid frame');
    const tooBig = fakeConnection([frame(1, 1, Buffer.alloc(100))]);
    tooBig.maxFrameSize = 50;
    expect(() => new FrameReader(tooBig).next()).toThrow('exceeds maxFrameSize');
    const over = Buffer.concat([
      headerFrame(1, FRAME_MAX),
      frame(3, 1, Buffer.alloc(FRAME_MAX - 8)),
      frame(3, 1, Buffer.alloc(100)),
    ]);
    const reader = new FrameReader(fakeConnection([over]));
    reader.next();
    expect(() => reader.next()).toThrow('Too much content');
  });

  it('gives every connection the same recvFrame function, each reading its own frames', () => {
    // One function for all (its optimized code lives as long as the module), not an arrow per
    // connection whose code went with the connection at a mark-compact.
    const first = fakeConnection([frame(1, 1, Buffer.from('one'))]);
    const second = fakeConnection([frame(1, 2, Buffer.from('two'))]);
    expect(readFramesWhole(first)).toBe(true);
    expect(readFramesWhole(second)).toBe(true);
    expect(second.recvFrame).toBe(first.recvFrame);
    expect((second.recvFrame() as { channel: number }).channel).toBe(2);
    expect((first.recvFrame() as { channel: number }).channel).toBe(1);
  });

  it('leaves a connection without amqplib 2.x internals as it is', () => {
    expect(readFramesWhole(undefined)).toBe(false);
    expect(readFramesWhole({ recvFrame() {} })).toBe(false);
  });
});

// amqplib's own codec and connection (internals, loaded by path as the driver loads decodeFrame).
const amqplibRequire = createRequire(createRequire(import.meta.url).resolve('amqplib'));
const defs = amqplibRequire('./lib/defs.js') as {
  BasicDeliver: number;
  BasicProperties: number;
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
};
const amqplibFrame = amqplibRequire('./lib/frame.js') as {
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
  HEARTBEAT_BUF: Buffer;
  HEARTBEAT: unknown;
};
const { Connection } = amqplibRequire('./lib/connection.js') as {
  Connection: { prototype: { recvFrame(this: unknown): unknown } };
};

describe('FrameReader with amqplib decodeFrame', () => {
  /** A delivery as a broker sends it: basic.deliver, a header frame with properties and headers, its body frames. */
  function delivery(channel: number, tag: number, body: Buffer): Buffer[] {
    const frames = [
      defs.encodeMethod(defs.BasicDeliver, channel, {
        consumerTag: 'ctag',
        deliveryTag: tag,
        redelivered: tag % 2 === 0,
        exchange: 'ex',
        routingKey: `rk.${tag}`,
      }),
      defs.encodeProperties(defs.BasicProperties, channel, body.length, {
        contentType: 'application/octet-stream',
        messageId: `m-${tag}`,
        timestamp: 1_700_000_000 + tag,
        headers: { 'x-switchyard-key': `k${tag}`, n: tag },
      }),
    ];
    for (let at = 0; at < body.length; at += FRAME_MAX - 8)
      frames.push(amqplibFrame.makeBodyFrame(channel, body.subarray(at, at + FRAME_MAX - 8)));
    return frames;
  }

  const stream = Buffer.concat([
    ...delivery(1, 1, randomBytes(256)),
    ...delivery(2, 2, randomBytes(3 * (FRAME_MAX - 8) + 5)),
    amqplibFrame.HEARTBEAT_BUF,
    ...delivery(1, 3, Buffer.alloc(0)),
    ...delivery(1, 4, randomBytes(FRAME_MAX - 8)),
    // Header frames of bodies past 32 bits (no body follows: the last frames read).
    defs.encodeProperties(defs.BasicProperties, 3, 2 ** 32 + 5, { messageId: 'big' }),
    defs.encodeProperties(defs.BasicProperties, 4, 2 ** 45 + 2 ** 31 + 3, {}),
  ]);

  /** Every frame amqplib's connection reads from `chunks`: its own recvFrame, or the driver's reader. */
  function frames(chunks: Buffer[], reader: boolean): { all: unknown[]; ownCalls: number } {
    let ownCalls = 0;
    const connection = {
      ...connectionState(chunks),
      recvFrame(): unknown {
        ownCalls++;
        return Connection.prototype.recvFrame.call(this);
      },
    };
    if (reader) expect(readFramesWhole(connection, amqplibFrameDecoder())).toBe(true);
    const all: unknown[] = [];
    for (let f = connection.recvFrame(); f !== false; f = connection.recvFrame()) all.push(f);
    return { all, ownCalls: reader ? ownCalls : 0 };
  }

  it('is found in the amqplib this package uses', () => {
    expect(typeof amqplibFrameDecoder()).toBe('function');
  });

  for (const [label, cut] of [
    ['one chunk', () => stream.length],
    ['one byte at a time', () => 1],
    ['chunks of 1,000', () => 1_000],
  ] as const) {
    it(`decodes method, header and heartbeat frames as amqplib does, without its recvFrame: ${label}`, () => {
      // amqplib alone, one chunk: the frames as its channels get them (body frames one by one).
      const own = frames([Buffer.from(stream)], false).all;
      const chunks: Buffer[] = [];
      const step = cut();
      for (let at = 0; at < stream.length; at += step)
        chunks.push(Buffer.from(stream.subarray(at, at + step)));
      const { all, ownCalls } = frames(chunks, true);
      const notBody = (f: unknown) => !('content' in (f as object));
      expect(all.filter(notBody)).toEqual(own.filter(notBody));
      // Bodies: amqplib hands a body frame by frame (its channel joins them), the reader whole.
      const bodies = (list: unknown[]) => {
        const out: Buffer[] = [];
        let gathering: Buffer[] | undefined;
        for (const f of list) {
          if ('content' in (f as object)) {
            gathering ??= [];
            gathering.push((f as { content: Buffer }).content);
          } else if (gathering !== undefined) {
            out.push(Buffer.concat(gathering));
            gathering = undefined;
          }
        }
        if (gathering !== undefined) out.push(Buffer.concat(gathering));
        return out;
      };
      expect(bodies(all)).toEqual(bodies(own));
      // The connection knows a heartbeat by identity (frame === HEARTBEAT), not by shape.
      expect(all).toContain(amqplibFrame.HEARTBEAT);
      // One chunk: every frame lies whole in `rest`, and none goes through amqplib's recvFrame.
      if (label === 'one chunk') expect(ownCalls).toBe(0);
    });
  }
});

const URL_ = 'amqp://guest:guest@127.0.0.1:5672';

it('consumes bodies of every size around the frame boundary byte for byte, without concatenating frames', async () => {
  // This package's driver as built from source, not whatever build connect() would load.
  registerDriver(driver);
  const broker = await connect(URL_);
  const name = `frame-reader-${randomBytes(3).toString('hex')}`;
  const queue = `${name}.test`;
  const admin = await amqp.connect(URL_);
  const setup = await admin.createConfirmChannel();
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(queue, name, '#');
  const concat = Buffer.concat;
  let concatenated = 0;
  try {
    const frameMax = (admin as unknown as { connection: { frameMax: number } }).connection.frameMax;
    const room = frameMax - 8;
    const sizes = [0, 1, room - 1, room, room + 1, 2 * room, 2 * room + 1, 1024 * 1024 + 3];
    const bodies = sizes.map((n) => randomBytes(n));
    for (const [i, body] of bodies.entries()) setup.publish(name, '', body, { messageId: `m-${i}` });
    await setup.waitForConfirms();
    const consumer = await broker.consumer(name, { group: 'test', prefetch: 10 });
    const got = new Map<string, Uint8Array>();
    const stop = new AbortController();
    Buffer.concat = (...args: Parameters<typeof concat>) => {
      concatenated++;
      return concat(...args);
    };
    await consumer.run(
      (message) => {
        got.set(message.id, message.body);
        if (got.size === bodies.length) stop.abort();
      },
      { signal: stop.signal },
    );
    Buffer.concat = concat;
    await consumer.close();
    for (const [i, body] of bodies.entries()) expect(Buffer.compare(got.get(`m-${i}`)!, body)).toBe(0);
    expect(concatenated).toBe(0);
  } finally {
    Buffer.concat = concat;
    await setup.deleteQueue(queue);
    await setup.deleteExchange(name);
    await admin.close();
    await broker.close();
  }
});
