import { describe, expect, it } from 'vitest';
import { RequestCode, ResponseCode } from './codes.js';
import {
  CopyingFrameDecoder,
  decodeFrame,
  encodeCommand,
  encodeCommandParts,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  FrameDecoder,
  isOneway,
  isResponse,
  type RemotingCommand,
  RemotingFrameError,
  request,
  response,
} from './command.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Sheet §1.5: GET_ROUTEINFO_BY_TOPIC as a 4.9.8 Java client sends it.
const routeRequestJson = hex(`
  00 00 00 87 00 00 00 83 7b 22 63 6f 64 65 22 3a 31 30 35 2c 22 65 78 74 46 69 65 6c 64 73 22 3a
  7b 22 74 6f 70 69 63 22 3a 22 54 6f 70 69 63 54 65 73 74 22 7d 2c 22 66 6c 61 67 22 3a 30 2c 22
  6c 61 6e 67 75 61 67 65 22 3a 22 4a 41 56 41 22 2c 22 6f 70 61 71 75 65 22 3a 31 2c 22 73 65 72
  69 61 6c 69 7a 65 54 79 70 65 43 75 72 72 65 6e 74 52 50 43 22 3a 22 4a 53 4f 4e 22 2c 22 76 65
  72 73 69 6f 6e 22 3a 34 30 39 7d`);

const routeRequestBinary = Buffer.concat([
  hex('00 00 00 2d 01 00 00 29 00 69 00 01 99 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 14 00 05'),
  Buffer.from('topic'),
  hex('00 00 00 09'),
  Buffer.from('TopicTest'),
]);

const routeBody = Buffer.from(
  '{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
    '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}',
);

describe('encodeCommand', () => {
  it('writes the sheet §1.5 JSON request byte for byte', () => {
    const frame = encodeCommand(
      request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicTest' }, undefined, 1),
    );
    expect(frame.length).toBe(139);
    expect(frame.equals(routeRequestJson)).toBe(true);
  });

  it('writes the sheet §1.5 binary request byte for byte', () => {
    const cmd = request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicTest' }, undefined, 1);
    const frame = encodeCommand({ ...cmd, serializeType: 'ROCKETMQ' });
    expect(frame.toString('hex')).toBe(routeRequestBinary.toString('hex'));
  });

  it('writes the sheet §1.5 response: 95-byte header, 235-byte body, frame length 334', () => {
    const req = decodeFrame(routeRequestJson.subarray(4));
    const frame = encodeCommand(response(req, ResponseCode.SUCCESS, {}, routeBody));
    expect(routeBody.length).toBe(235);
    expect(frame.readInt32BE(0)).toBe(334);
    expect(frame.subarray(0, 16).toString('hex')).toBe('0000014e0000005f7b22636f6465223a');
    expect(frame.subarray(8, 8 + 95).toString()).toBe(
      '{"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409}',
    );
    expect(frame.subarray(8 + 95).equals(routeBody)).toBe(true);
  });
});

describe('FrameDecoder', () => {
  it('decodes both serializations of the sheet §1.5 request to the same command', () => {
    for (const frame of [routeRequestJson, routeRequestBinary]) {
      const [cmd, ...rest] = new FrameDecoder().push(frame);
      expect(rest).toEqual([]);
      expect(cmd).toMatchObject({
        code: 105,
        language: 'JAVA',
        version: 409,
        opaque: 1,
        flag: 0,
        extFields: { topic: 'TopicTest' },
      });
      expect(cmd?.body).toBeUndefined();
    }
  });

  it('holds partial frames and splits coalesced ones, byte by byte', () => {
    const a = encodeCommand(request(34, {}, Buffer.from('{"clientID":"x"}'), 7));
    const b = encodeCommand({
      ...response(request(11, {}, undefined, 8), 19, { nextBeginOffset: 3 }, undefined, 'no new'),
      serializeType: 'ROCKETMQ',
    });
    const stream = Buffer.concat([a, b, a.subarray(0, 5)]);
    const decoder = new FrameDecoder();
    const got: RemotingCommand[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(got.map((c) => c.opaque)).toEqual([7, 8]);
    expect(got[0]?.body?.toString()).toBe('{"clientID":"x"}');
    expect(got[1]).toMatchObject({
      code: 19,
      flag: FLAG_RESPONSE,
      remark: 'no new',
      serializeType: 'ROCKETMQ',
    });
    expect(got[1]?.extFields).toEqual({ nextBeginOffset: '3' });
    expect(decoder.buffered).toBe(5);
  });

  it('decodes a large frame read in socket-sized pieces, with the next frame begun in the last', () => {
    const body = Buffer.alloc(1024 * 1024 + 3);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const big = encodeCommand(request(310, { b: 'topic' }, body, 21));
    const small = encodeCommand(request(34, {}, Buffer.from('tail'), 22));
    const stream = Buffer.concat([big, small]);
    const decoder = new FrameDecoder();
    const got: RemotingCommand[] = [];
    for (let at = 0; at < stream.length; at += 65_536) {
      got.push(...decoder.push(stream.subarray(at, at + 65_536)));
      if (got.length === 0) expect(decoder.buffered).toBe(Math.min(at + 65_536, stream.length));
    }
    expect(got.map((c) => c.opaque)).toEqual([21, 22]);
    expect(got[0]?.body?.equals(body)).toBe(true);
    expect(got[0]?.extFields).toEqual({ b: 'topic' });
    expect(got[1]?.body?.toString()).toBe('tail');
    expect(decoder.buffered).toBe(0);
  });

  it('copying: decodes from one reused read buffer, overwritten after every read, split at every byte', () => {
    const a = encodeCommand(request(34, {}, Buffer.from('{"clientID":"x"}'), 7));
    const b = encodeCommand({
      ...response(request(11, {}, undefined, 8), 19, { nextBeginOffset: 3 }, undefined, 'no new'),
      serializeType: 'ROCKETMQ',
    });
    // Most of c is its body: read alone into a buffer of its size, decodeFrame would keep the body as a view.
    const c = encodeCommand(request(34, {}, Buffer.alloc(400, 'c'), 9));
    const stream = Buffer.concat([c, a, b, a, a.subarray(0, 5)]);
    for (const size of [1, 3, 4, 7, a.length, c.length, stream.length]) {
      const decoder = new CopyingFrameDecoder();
      const read = Buffer.alloc(size);
      const got: RemotingCommand[] = [];
      for (let at = 0; at < stream.length; at += size) {
        const n = stream.copy(read, 0, at, at + size);
        got.push(...decoder.push(read.subarray(0, n)));
        read.fill(0xee); // the socket's next read overwrites it: nothing kept may point into it
      }
      expect(got.map((cmd) => cmd.opaque)).toEqual([9, 7, 8, 7]);
      expect(got[0]?.body?.equals(Buffer.alloc(400, 'c'))).toBe(true);
      expect(got[1]?.body?.toString()).toBe('{"clientID":"x"}');
      expect(got[3]?.body?.toString()).toBe('{"clientID":"x"}');
      expect(got[2]).toMatchObject({ code: 19, remark: 'no new', serializeType: 'ROCKETMQ' });
      expect(got[2]?.extFields).toEqual({ nextBeginOffset: '3' });
      expect(decoder.buffered).toBe(5);
    }
  });

  it('copying: reads the rest of a large frame straight into it, and the next frame through the read buffer', () => {
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const big = encodeCommand(request(310, { b: 'topic' }, body, 21));
    const small = encodeCommand(request(34, {}, Buffer.from('tail'), 22));
    const stream = Buffer.concat([big, small, small]);
    const decoder = new CopyingFrameDecoder();
    const scratch = Buffer.alloc(65_536);
    const got: RemotingCommand[] = [];
    let at = 0;
    let inPlace = 0;
    // What a socket does with net's onread: each read fills at most the buffer it is given.
    while (at < stream.length) {
      const target = decoder.readTarget(scratch);
      const n = stream.copy(target, 0, at, at + target.length);
      at += n;
      if (target === scratch) {
        got.push(...decoder.push(scratch.subarray(0, n)));
        scratch.fill(0xee);
      } else {
        inPlace += n;
        expect(target.length).toBeGreaterThanOrEqual(scratch.length);
        got.push(...decoder.readInPlace(n));
      }
    }
    expect(got.map((c) => c.opaque)).toEqual([21, 22, 22]);
    expect(got[0]?.body?.equals(body)).toBe(true);
    expect(got[0]?.extFields).toEqual({ b: 'topic' });
    expect(got[2]?.body?.toString()).toBe('tail');
    // All but the first read (the frame's head) and the last part shorter than a read.
    expect(inPlace).toBeGreaterThan(big.length - 2 * scratch.length);
    expect(decoder.buffered).toBe(0);
    expect(decoder.readTarget(scratch)).toBe(scratch);
  });

  it('copying: rejects a length outside the frame limits, also split across reads', () => {
    expect(() => new CopyingFrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(
      RemotingFrameError,
    );
    const decoder = new CopyingFrameDecoder(1024);
    expect(decoder.push(hex('00 00'))).toEqual([]);
    expect(() => decoder.push(hex('08 01'))).toThrow(/outside 4\.\.1024/);
    expect(() => new CopyingFrameDecoder().readInPlace(1)).toThrow(RemotingFrameError);
  });

  it('stringifies ali-ons typed JSON values', () => {
    const header = Buffer.from(
      JSON.stringify({
        code: 11,
        language: 'JAVA',
        version: 121,
        opaque: 3,
        flag: 0,
        extFields: { queueId: 2, x: true },
      }),
    );
    const frame = Buffer.alloc(8 + header.length);
    frame.writeInt32BE(4 + header.length, 0);
    frame.writeInt32BE(header.length, 4);
    header.copy(frame, 8);
    expect(new FrameDecoder().push(frame)[0]?.extFields).toEqual({ queueId: '2', x: 'true' });
  });

  it('lets the last occurrence of a repeated binary key win', () => {
    const ext = Buffer.concat(
      ['1', '2'].map((v) =>
        Buffer.concat([hex('00 01'), Buffer.from('e'), hex('00 00 00 01'), Buffer.from(v)]),
      ),
    );
    const header = Buffer.concat([
      hex('00 0b 00 01 99 00 00 00 02 00 00 00 00 00 00 00 00'),
      hex('00 00 00 10'),
      ext,
    ]);
    const frame = Buffer.alloc(8);
    frame.writeInt32BE(4 + header.length, 0);
    frame.writeInt32BE((1 << 24) | header.length, 4);
    expect(new FrameDecoder().push(Buffer.concat([frame, header]))[0]?.extFields).toEqual({ e: '2' });
  });

  it('throws a typed error on a corrupt frame', () => {
    expect(() => new FrameDecoder().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(RemotingFrameError);
    expect(() => new FrameDecoder().push(hex('00 00 00 08 05 00 00 00 7b 7d 00 00'))).toThrow(
      /serialize type 5/,
    );
    expect(() => new FrameDecoder().push(hex('00 00 00 06 00 00 00 02 7b 7b'))).toThrow(/JSON header/);
    expect(() => new FrameDecoder().push(hex('00 00 00 08 01 00 00 04 00 01 00 00'))).toThrow(
      /binary header/,
    );
  });

  it('round-trips flags, remark and body in both serializations', () => {
    for (const serializeType of ['JSON', 'ROCKETMQ'] as const) {
      const cmd: RemotingCommand = {
        code: 40,
        language: 'GO',
        version: 317,
        opaque: -5,
        flag: FLAG_ONEWAY,
        remark: 'ünïcode',
        extFields: { consumerGroup: 'g', i: 'TAGS\u0001a\u0002KEYS\u0001k' },
        body: Buffer.from([0, 1, 2]),
        serializeType,
      };
      const [back] = new FrameDecoder().push(encodeCommand(cmd));
      expect(back).toEqual(cmd);
      expect(isOneway(back!)).toBe(true);
      expect(isResponse(back!)).toBe(false);
    }
  });
});

describe('encodeCommandParts', () => {
  it('is the frame of encodeCommand split before the body, the body not copied', () => {
    const body = Buffer.from('payload');
    const cmd = request(310, { a: 'g' }, body, 9);
    const [head, rest] = encodeCommandParts(cmd);
    expect(rest).toBe(body);
    expect(Buffer.concat([head, rest!]).equals(encodeCommand(cmd))).toBe(true);
    expect(encodeCommandParts(request(34, {}, undefined, 1))[1]).toBeUndefined();
  });
});
