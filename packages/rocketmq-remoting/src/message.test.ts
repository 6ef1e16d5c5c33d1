import { describe, expect, it } from 'vitest';
import {
  type BatchEntry,
  decodeBatchBody,
  decodeOffsetMsgId,
  decodeProperties,
  decodeStoredMessages,
  encodeBatchBody,
  encodeBatchParts,
  encodeProperties,
  encodeStoredMessage,
  encodeStoredMessages,
  offsetMsgId,
  type StoredMessage,
  tagsHashCode,
} from './message.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Sheet §3.1's worked record.
const worked: StoredMessage = {
  topic: 'TopicTest',
  queueId: 0,
  flag: 0,
  queueOffset: 0,
  commitLogOffset: 1234,
  sysFlag: 0,
  bornTimestamp: 1700000000000,
  bornHost: '127.0.0.1:54321',
  storeTimestamp: 1700000000005,
  storeHost: '127.0.0.1:10911',
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  body: Buffer.from('Hello RocketMQ'),
  properties: { TAGS: 'TagA', UNIQ_KEY: 'AC11000118B46D1B7C5A47B760000000', CLUSTER: 'DefaultCluster' },
};

const workedPrefix = hex(`
  00 00 00 bc da a3 20 a7 69 c8 65 ed 00 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
  00 00 04 d2 00 00 00 00 00 00 01 8b cf e5 68 00  7f 00 00 01 00 00 d4 31 00 00 01 8b cf e5 68 05
  7f 00 00 01 00 00 2a 9f 00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 0e 48 65 6c 6c 6f 20 52 6f
  63 6b 65 74 4d 51 09 54 6f 70 69 63 54 65 73 74  00 4a 54 41 47 53 01 54 61 67 41 02 55 4e 49 51`);

describe('stored messages', () => {
  it('encodes the sheet §3.1 worked record byte for byte', () => {
    const record = encodeStoredMessage(worked);
    expect(record.length).toBe(188);
    expect(record.subarray(0, 128).toString('hex')).toBe(workedPrefix.toString('hex'));
    expect(record.subarray(112).toString('latin1')).toBe(
      '\u0000\u004aTAGS\u0001TagA\u0002UNIQ_KEY\u0001AC11000118B46D1B7C5A47B760000000\u0002CLUSTER\u0001DefaultCluster',
    );
  });

  it('encodes a pull body of several records into one buffer, each as encodeStoredMessage does', () => {
    const records: StoredMessage[] = [
      worked,
      { ...worked, queueOffset: 1, commitLogOffset: 1422, body: Buffer.alloc(0), properties: {} },
      {
        ...worked,
        queueOffset: 2,
        bornHost: '[::1]:7',
        storeHost: '[fe80::1:2]:10911',
        body: Buffer.alloc(70_000, 7),
      },
    ];
    const body = encodeStoredMessages(records);
    expect(body.toString('hex')).toBe(Buffer.concat(records.map(encodeStoredMessage)).toString('hex'));
    expect(decodeStoredMessages(body).map((m) => m.queueOffset)).toEqual([0, 1, 2]);
    // The body CRC is the caller's when given (a server remembers it per stored body): the field
    // at byte 8 of each record, 31 bits as the broker writes it.
    const seen: number[] = [];
    const given = encodeStoredMessages(records, (b) => {
      seen.push(b.length);
      return 0xffffffff;
    });
    expect(seen).toEqual([14, 0, 70_000]);
    let at = 0;
    for (const m of decodeStoredMessages(given)) {
      expect(given.readInt32BE(at + 8)).toBe(0x7fffffff);
      at += given.readInt32BE(at);
      expect(m.body.length).toBe(seen.shift());
    }
  });

  it('decodes concatenated records with their offsetMsgId', () => {
    const second = { ...worked, queueOffset: 1, commitLogOffset: 1422, properties: { TAGS: 'TagB' } };
    const [a, b, ...rest] = decodeStoredMessages(
      Buffer.concat([encodeStoredMessage(worked), encodeStoredMessage(second)]),
    );
    expect(rest).toEqual([]);
    expect(a).toEqual({ ...worked, msgId: '7F00000100002A9F00000000000004D2' });
    expect(b).toMatchObject({ queueOffset: 1, properties: { TAGS: 'TagB' } });
  });

  it('round-trips IPv6 hosts and sets their sysFlag bits', () => {
    const m = { ...worked, bornHost: '[::1]:1', storeHost: '[fe80::2:3]:10911' };
    const [back] = decodeStoredMessages(encodeStoredMessage(m));
    expect(back?.sysFlag).toBe(0x30);
    expect(back?.bornHost).toBe('[0:0:0:0:0:0:0:1]:1');
    expect(back?.storeHost).toBe('[fe80:0:0:0:0:0:2:3]:10911');
    expect(back?.msgId).toHaveLength(56);
  });

  it('gives each record its own hosts and id when they change from record to record', () => {
    const records = [
      worked,
      { ...worked, bornHost: '10.0.0.2:1', storeHost: '10.0.0.9:10911', commitLogOffset: 2 ** 40 + 5 },
      { ...worked, bornHost: '[::1]:1' },
      worked,
    ];
    const back = decodeStoredMessages(Buffer.concat(records.map(encodeStoredMessage)));
    expect(back.map((m) => [m.bornHost, m.storeHost, m.msgId])).toEqual([
      ['127.0.0.1:54321', '127.0.0.1:10911', '7F00000100002A9F00000000000004D2'],
      ['10.0.0.2:1', '10.0.0.9:10911', '0A00000900002A9F0000010000000005'],
      ['[0:0:0:0:0:0:0:1]:1', '127.0.0.1:10911', '7F00000100002A9F00000000000004D2'],
      ['127.0.0.1:54321', '127.0.0.1:10911', '7F00000100002A9F00000000000004D2'],
    ]);
    expect(back[1]?.commitLogOffset).toBe(2 ** 40 + 5);
    expect(back.map((m) => m.body.toString())).toEqual(records.map(() => 'Hello RocketMQ'));
  });

  it('reads 64-bit fields as the same Numbers BigInt gave, negative and past 2^53 included', () => {
    for (const value of [0, 1, 2 ** 32 - 1, 2 ** 32, 1700000000000, -1, -(2 ** 40) - 3, 2 ** 62 + 2 ** 11]) {
      const [back] = decodeStoredMessages(encodeStoredMessage({ ...worked, bornTimestamp: value }));
      expect(back?.bornTimestamp).toBe(Number(BigInt.asIntN(64, BigInt(value))));
    }
  });

  it('bounds a field by its own record, not by the pull body it sits in', () => {
    const first = encodeStoredMessage(worked);
    // The first record's property length now runs past its end into the second record.
    first.writeInt16BE(0x4a + 40, first.length - 0x4a - 2);
    expect(() => decodeStoredMessages(Buffer.concat([first, encodeStoredMessage(worked)]))).toThrow(
      /corrupt stored message at byte 0: .*overrun/,
    );
  });

  it('keeps a body that is most of the reply in place and copies smaller ones', () => {
    const large = { ...worked, body: Buffer.alloc(300_000, 'l') };
    const alone = encodeStoredMessage(large);
    const [kept] = decodeStoredMessages(alone);
    expect(kept?.body.buffer).toBe(alone.buffer);
    expect(kept?.body.equals(large.body)).toBe(true);
    // Four 64 KiB bodies in one reply: each a quarter of it, so each is copied out.
    const reply = Buffer.concat(
      [0, 1, 2, 3].map((i) => encodeStoredMessage({ ...worked, body: Buffer.alloc(65_536, i) })),
    );
    const bodies = decodeStoredMessages(reply).map((m) => m.body);
    expect(bodies.map((b) => b.buffer === reply.buffer)).toEqual([false, false, false, false]);
    expect(bodies.map((b) => b[0])).toEqual([0, 1, 2, 3]);
  });

  it('rejects a corrupt record', () => {
    const record = encodeStoredMessage(worked);
    expect(() => decodeStoredMessages(record.subarray(0, 100))).toThrow(/corrupt stored message/);
    const bad = Buffer.from(record);
    bad.writeInt32BE(1, 4);
    expect(() => decodeStoredMessages(bad)).toThrow(/magic/);
  });
});

describe('ids', () => {
  it('builds and splits the sheet §3.1 offsetMsgId', () => {
    expect(offsetMsgId('127.0.0.1:10911', 1234)).toBe('7F00000100002A9F00000000000004D2');
    expect(decodeOffsetMsgId('7F00000100002A9F00000000000004D2')).toEqual({
      storeHost: '127.0.0.1:10911',
      commitLogOffset: 1234,
    });
    expect(() => decodeOffsetMsgId('AC11000118B46D1B')).toThrow(/offsetMsgId/);
  });

  it("hashes tags as Java's String.hashCode (sheet §3.6)", () => {
    expect(tagsHashCode('TagA')).toBe(2598919);
    expect(tagsHashCode('TagB')).toBe(2598920);
    expect(tagsHashCode('*')).toBe(42);
    expect(tagsHashCode('tag_create')).toBe(-73138879);
  });
});

describe('properties', () => {
  it('writes no trailing separator and reads one (ali-ons)', () => {
    expect(encodeProperties({ TAGS: 'a', KEYS: 'k1 k2' })).toBe('TAGS\u0001a\u0002KEYS\u0001k1 k2');
    expect(decodeProperties('TAGS\u0001a\u0002KEYS\u0001k1 k2\u0002')).toEqual({ TAGS: 'a', KEYS: 'k1 k2' });
  });

  it('skips pairs with an empty side', () => {
    expect(decodeProperties('\u0001x\u0002y\u0001\u0002ok\u0001v\u0002junk')).toEqual({ ok: 'v' });
    expect(decodeProperties('')).toEqual({});
  });
});

describe('batch body', () => {
  it('writes the sheet §3.2 layout and round-trips', () => {
    const entries: BatchEntry[] = [
      { flag: 0, body: Buffer.from('one'), properties: { UNIQ_KEY: 'A', TAGS: 't' } },
      { flag: 7, body: Buffer.alloc(0), properties: {} },
    ];
    const buf = encodeBatchBody(entries);
    const props = Buffer.from('UNIQ_KEY\u0001A\u0002TAGS\u0001t');
    expect(buf.subarray(0, 20).toString('hex')).toBe(
      `${(22 + 3 + props.length).toString(16).padStart(8, '0')}00000000000000000000000000000003`,
    );
    expect(buf.length).toBe(22 + 3 + props.length + 22);
    expect(decodeBatchBody(buf)).toEqual(entries);
  });

  it('gives the same bytes in pieces, the bodies themselves among them (not copies)', () => {
    const big = Buffer.alloc(70_000, 'b');
    const entries: BatchEntry[] = [
      { flag: 1, body: Buffer.from('one'), properties: { UNIQ_KEY: 'A' } },
      { flag: 0, body: Buffer.alloc(0), properties: { TAGS: 't' } },
      { flag: 2, body: big, properties: {} },
    ];
    const parts = encodeBatchParts(entries);
    expect(parts).toContain(big);
    expect(Buffer.concat(parts).equals(encodeBatchBody(entries))).toBe(true);
    expect(decodeBatchBody(Buffer.concat(parts))).toEqual(entries);
    expect(encodeBatchParts([])).toEqual([]);
  });

  it('rejects a corrupt batch body', () => {
    const buf = encodeBatchBody([{ flag: 0, body: Buffer.from('x'), properties: {} }]);
    expect(() => decodeBatchBody(buf.subarray(0, 10))).toThrow(/truncated batch entry/);
    const bad = Buffer.from(buf);
    bad.writeInt32BE(99, 16);
    expect(() => decodeBatchBody(bad)).toThrow(/corrupt batch entry/);
  });
});
