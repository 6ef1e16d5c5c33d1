import { isIPv6 } from 'node:net';
import { crc32 } from 'node:zlib';
import { MessageSysFlag } from './codes.js';
import { RemotingFrameError } from './command.js';
import { ByteReader } from './reader.js';

/** Well-known property names, as in Apache's MessageConst (values are the wire names). */
export const MessageConst = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  WAIT: 'WAIT',
  DELAY: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  TRAN_MSG: 'TRAN_MSG',
  PGROUP: 'PGROUP',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  BUYER_ID: 'BUYER_ID',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MSG_REGION: 'MSG_REGION',
  TRACE_ON: 'TRACE_ON',
  UNIQ_KEY: 'UNIQ_KEY',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  CONSUME_START_TIME: 'CONSUME_START_TIME',
  INSTANCE_ID: 'INSTANCE_ID',
  CLUSTER: 'CLUSTER',
  SHARDING_KEY: '__SHARDINGKEY',
  /** TDMQ/Aliyun arbitrary delivery time, decimal epoch ms; not an Apache 4.x property (sheet §4.6). */
  START_DELIVER_TIME: '__STARTDELIVERTIME',
} as const;

/** The 18 delay levels of a default 4.x broker, in ms; level n is index n-1. */
export const DELAY_LEVELS_MS: readonly number[] = [
  1_000, 5_000, 10_000, 30_000, 60_000, 120_000, 180_000, 240_000, 300_000, 360_000, 420_000, 480_000,
  540_000, 600_000, 1_200_000, 1_800_000, 3_600_000, 7_200_000,
];

const NAME_VALUE = '\u0001';
const PROPERTY = '\u0002';

/** `name␁value` pairs joined by `␂`, without the trailing separator (as Java writes them). */
export function encodeProperties(props: Record<string, string>): string {
  return Object.entries(props)
    .map(([k, v]) => k + NAME_VALUE + v)
    .join(PROPERTY);
}

/**
 * Parses a property string; like Java, skips pairs with an empty side and tolerates a trailing `␂`.
 * Walks the separators in place (no array of pairs): every received message has its properties parsed.
 */
export function decodeProperties(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let start = 0; start < s.length; ) {
    let end = s.indexOf(PROPERTY, start);
    if (end < 0) end = s.length;
    const at = s.indexOf(NAME_VALUE, start);
    // A name and a value, both non-empty, inside this pair.
    if (at > start && at < end - 1) out[s.slice(start, at)] = s.slice(at + 1, end);
    start = end + 1;
  }
  return out;
}

/** Java's String.hashCode, which the broker stores as a message's tagsCode and subscriptions carry in codeSet. */
export function tagsHashCode(tag: string): number {
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (31 * h + tag.charCodeAt(i)) | 0;
  return h;
}

/** A commit-log record as a broker stores it and a pull returns it (MessageDecoder's layout). */
export interface StoredMessage {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  /** `ip:port`; IPv6 as `[addr]:port`. */
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  /** As stored: still compressed when sysFlag has COMPRESSED. */
  body: Buffer;
  properties: Record<string, string>;
  /** offsetMsgId, filled in by decodeStoredMessages. */
  msgId?: string;
}

const MAGIC_V1 = 0xdaa320a7 | 0;

/** The 32-char (IPv4) or 56-char (IPv6) offsetMsgId: store host + port + commit-log offset, uppercase hex. */
export function offsetMsgId(storeHost: string, commitLogOffset: number): string {
  const host = encodeHost(storeHost);
  const out = Buffer.alloc(host.length + 8);
  host.copy(out, 0);
  out.writeBigInt64BE(BigInt(commitLogOffset), host.length);
  return out.toString('hex').toUpperCase();
}

/** Splits an offsetMsgId back into its store host and commit-log offset. */
export function decodeOffsetMsgId(id: string): { storeHost: string; commitLogOffset: number } {
  const buf = Buffer.from(id, 'hex');
  if (buf.length !== 16 && buf.length !== 28) {
    throw new RemotingFrameError(`"${id}" is not an offsetMsgId (32 or 56 hex characters)`);
  }
  const ipLength = buf.length - 12;
  return {
    storeHost: decodeHost(buf.subarray(0, ipLength + 4)),
    commitLogOffset: Number(buf.readBigInt64BE(ipLength + 4)),
  };
}

function splitHost(hostPort: string): { ip: string; port: number } {
  const at = hostPort.lastIndexOf(':');
  const ip = hostPort.slice(0, at).replace(/^\[|\]$/g, '');
  return { ip, port: Number(hostPort.slice(at + 1)) };
}

function encodeHost(hostPort: string): Buffer {
  const { ip, port } = splitHost(hostPort);
  let addr: Buffer;
  if (isIPv6(ip)) {
    addr = Buffer.alloc(16);
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = ip.includes('::') && tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    groups.forEach((g, i) => {
      addr.writeUInt16BE(Number.parseInt(g, 16), i * 2);
    });
  } else {
    const parts = ip.split('.').map(Number);
    addr = Buffer.from(parts.length === 4 && parts.every((p) => p >= 0 && p < 256) ? parts : [127, 0, 0, 1]);
  }
  const out = Buffer.alloc(addr.length + 4);
  addr.copy(out, 0);
  out.writeInt32BE(port, addr.length);
  return out;
}

/** IPv4 or IPv6 address bytes followed by an int32 port: `length` (8 or 20) bytes of `buf` at `at`. */
function decodeHost(buf: Buffer, at = 0, length = buf.length): string {
  const port = buf.readInt32BE(at + length - 4);
  if (length === 8) return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + i * 2).toString(16));
  return `[${groups.join(':')}]:${port}`;
}

/** Encodes one stored record; the IPv6 sysFlag bits are set from the hosts. */
export function encodeStoredMessage(m: StoredMessage): Buffer {
  return encodeStoredMessages([m]);
}

/** A record's fields in bytes, measured before the pull body they go into is allocated. */
interface RecordParts {
  readonly m: StoredMessage;
  readonly topic: Buffer;
  readonly props: Buffer;
  readonly born: Buffer;
  readonly store: Buffer;
  readonly size: number;
}

function recordParts(m: StoredMessage): RecordParts {
  const topic = Buffer.from(m.topic, 'utf8');
  const props = Buffer.from(encodeProperties(m.properties), 'utf8');
  if (topic.length > 127) throw new RemotingFrameError(`topic "${m.topic}" is longer than 127 bytes`);
  if (props.length > 32767) throw new RemotingFrameError(`properties of ${props.length} bytes exceed 32767`);
  const born = encodeHost(m.bornHost);
  const store = encodeHost(m.storeHost);
  // TOTALSIZE … BODY, then the topic and the properties with their lengths.
  const fixed = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 4 + 8 + 4 + 1 + 2;
  const size = fixed + born.length + store.length + m.body.length + topic.length + props.length;
  return { m, topic, props, born, store, size };
}

/**
 * Encodes records one after another into one buffer of exactly their size, as a pull reply's body
 * holds them. `bodyCrc` gives a record's body CRC: a broker computes it once, when it stores the
 * message, and serves a pull from the stored bytes, so a server answering many pulls of one
 * message can remember it (the emulator did a zeroed buffer, a CRC and a copy per record and a
 * join per reply: ≈ 80 µs per 64 KiB message on every pull, docs/bench-profiles.md remoting64).
 */
export function encodeStoredMessages(
  messages: readonly StoredMessage[],
  bodyCrc: (body: Buffer) => number = (body) => crc32(body),
): Buffer {
  const parts = messages.map(recordParts);
  let total = 0;
  for (const p of parts) total += p.size;
  // Unzeroed: every byte is written below.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of parts) at = writeRecord(out, at, p, bodyCrc(p.m.body));
  return out;
}

function writeRecord(out: Buffer, start: number, p: RecordParts, crc: number): number {
  const { m, topic, props, born, store } = p;
  let sysFlag = m.sysFlag & ~(MessageSysFlag.BORNHOST_V6 | MessageSysFlag.STOREHOST_V6);
  if (born.length === 20) sysFlag |= MessageSysFlag.BORNHOST_V6;
  if (store.length === 20) sysFlag |= MessageSysFlag.STOREHOST_V6;
  let at = out.writeInt32BE(p.size, start);
  at = out.writeInt32BE(MAGIC_V1, at);
  at = out.writeInt32BE(crc & 0x7fffffff, at);
  at = out.writeInt32BE(m.queueId, at);
  at = out.writeInt32BE(m.flag, at);
  at = out.writeBigInt64BE(BigInt(m.queueOffset), at);
  at = out.writeBigInt64BE(BigInt(m.commitLogOffset), at);
  at = out.writeInt32BE(sysFlag, at);
  at = out.writeBigInt64BE(BigInt(m.bornTimestamp), at);
  at += born.copy(out, at);
  at = out.writeBigInt64BE(BigInt(m.storeTimestamp), at);
  at += store.copy(out, at);
  at = out.writeInt32BE(m.reconsumeTimes, at);
  at = out.writeBigInt64BE(BigInt(m.preparedTransactionOffset), at);
  at = out.writeInt32BE(m.body.length, at);
  at += m.body.copy(out, at);
  at = out.writeInt8(topic.length, at);
  at += topic.copy(out, at);
  at = out.writeInt16BE(props.length, at);
  at += props.copy(out, at);
  return at;
}

/**
 * Decodes a pull body (concatenated records). Throws on a corrupt record rather than dropping the
 * rest silently. Every record is read in place (no subarray per record or field, no BigInt per
 * 64-bit field): a consumer decodes every message it receives, so this is per-message work on
 * every Remoting receive. A body that is most of the memory beneath it is kept where it is (a
 * large message: a broker returns it alone, as it caps a pull reply at 256 KiB of bodies after the
 * first); a smaller one is copied, so a held message never keeps more than twice its size alive
 * (the rule decodeFrame applies to a frame's body).
 */
export function decodeStoredMessages(body: Buffer): StoredMessage[] {
  const out: StoredMessage[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 8) throw new RemotingFrameError(`truncated stored message at byte ${at}`);
    const size = body.readInt32BE(at);
    if (size < 91 || at + size > body.length) {
      throw new RemotingFrameError(
        `corrupt stored message at byte ${at}: size ${size} of ${body.length - at} left`,
      );
    }
    out.push(decodeStoredMessage(body, at, at + size));
    at += size;
  }
  return out;
}

/**
 * The last IPv4 host (address and port) read in one role, as text and as the offsetMsgId's
 * uppercase hex: the records of a pull share their store host and mostly their born host, so
 * each is formatted once rather than per message. Keyed by the bytes themselves.
 */
class LastHost {
  #ip = 0;
  #port = 0;
  #text: string | undefined;
  #hex: string | undefined;

  text(buf: Buffer, at: number, length: number): string {
    if (length !== 8) return decodeHost(buf, at, length);
    this.#see(buf, at);
    this.#text ??= decodeHost(buf, at, 8);
    return this.#text;
  }

  hex(buf: Buffer, at: number, length: number): string {
    if (length !== 8) return buf.toString('hex', at, at + length).toUpperCase();
    this.#see(buf, at);
    this.#hex ??= buf.toString('hex', at, at + 8).toUpperCase();
    return this.#hex;
  }

  #see(buf: Buffer, at: number): void {
    const ip = buf.readInt32BE(at);
    const port = buf.readInt32BE(at + 4);
    if (ip === this.#ip && port === this.#port) return;
    this.#ip = ip;
    this.#port = port;
    this.#text = undefined;
    this.#hex = undefined;
  }
}

const bornHosts = new LastHost();
const storeHosts = new LastHost();

/** Whether a body of `length` bytes may stay a view of `buf`: it is at least half of the memory beneath. */
function keepsInPlace(length: number, buf: Buffer): boolean {
  return length > 0 && length * 2 >= buf.buffer.byteLength;
}

function decodeStoredMessage(buf: Buffer, start: number, end: number): StoredMessage {
  const r = new ByteReader(buf, start + 4, end);
  const magic = r.int32();
  const v2 = magic === (0xdaa320ab | 0);
  if (magic !== MAGIC_V1 && !v2) {
    throw new RemotingFrameError(
      `corrupt stored message at byte ${start}: magic 0x${(magic >>> 0).toString(16)}`,
    );
  }
  try {
    r.skip(4); // body CRC: the broker checks it, a reader need not
    const queueId = r.int32();
    const flag = r.int32();
    const queueOffset = r.int64();
    const commitLogOffsetAt = r.at;
    const commitLogOffset = r.int64();
    const sysFlag = r.int32();
    const bornTimestamp = r.int64();
    const bornHostLength = sysFlag & MessageSysFlag.BORNHOST_V6 ? 20 : 8;
    const bornHost = bornHosts.text(buf, r.skip(bornHostLength), bornHostLength);
    const storeTimestamp = r.int64();
    const storeHostLength = sysFlag & MessageSysFlag.STOREHOST_V6 ? 20 : 8;
    const storeHostAt = r.skip(storeHostLength);
    const reconsumeTimes = r.int32();
    const preparedTransactionOffset = r.int64();
    const bodyLength = r.int32();
    const bodyAt = r.skip(bodyLength);
    let body: Buffer;
    if (keepsInPlace(bodyLength, buf)) body = buf.subarray(bodyAt, bodyAt + bodyLength);
    else {
      body = Buffer.allocUnsafe(bodyLength);
      buf.copy(body, 0, bodyAt, bodyAt + bodyLength);
    }
    const topic = r.utf8(v2 ? r.int16() : r.int8());
    const properties = decodeProperties(r.utf8(r.int16()));
    return {
      topic,
      queueId,
      flag,
      queueOffset,
      commitLogOffset,
      sysFlag,
      bornTimestamp,
      bornHost,
      storeTimestamp,
      storeHost: storeHosts.text(buf, storeHostAt, storeHostLength),
      reconsumeTimes,
      preparedTransactionOffset,
      body,
      properties,
      // The offsetMsgId's bytes are the record's own: the store host, then the commit-log offset.
      msgId:
        storeHosts.hex(buf, storeHostAt, storeHostLength) +
        buf.toString('hex', commitLogOffsetAt, commitLogOffsetAt + 8).toUpperCase(),
    };
  } catch (cause) {
    throw new RemotingFrameError(`corrupt stored message at byte ${start}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** One message inside a SEND_BATCH_MESSAGE body; the topic travels in the request header. */
export interface BatchEntry {
  flag: number;
  body: Buffer;
  properties: Record<string, string>;
}

/** The SEND_BATCH_MESSAGE body: `{TOTALSIZE, MAGIC=0, CRC=0, FLAG, BODYLEN, body, PROPLEN, props}` per message. */
export function encodeBatchBody(msgs: readonly BatchEntry[]): Buffer {
  return Buffer.concat(encodeBatchParts(msgs));
}

/**
 * The SEND_BATCH_MESSAGE body in pieces: the bodies as given, between small buffers holding the
 * fields around them, so a writer can send a batch without copying its bodies into one buffer.
 */
export function encodeBatchParts(msgs: readonly BatchEntry[]): Buffer[] {
  const parts: Buffer[] = [];
  let trailer: Buffer | undefined;
  for (const m of msgs) {
    const props = Buffer.from(encodeProperties(m.properties), 'utf8');
    // The previous message's PROPLEN + props and this one's fields before its body: one buffer.
    const lead = Buffer.allocUnsafe((trailer?.length ?? 0) + 20);
    let at = trailer === undefined ? 0 : trailer.copy(lead, 0);
    at = lead.writeInt32BE(22 + m.body.length + props.length, at);
    at = lead.writeInt32BE(0, at);
    at = lead.writeInt32BE(0, at);
    at = lead.writeInt32BE(m.flag, at);
    lead.writeInt32BE(m.body.length, at);
    parts.push(lead);
    if (m.body.length > 0) parts.push(m.body);
    trailer = Buffer.allocUnsafe(2 + props.length);
    trailer.writeInt16BE(props.length, 0);
    props.copy(trailer, 2);
  }
  if (trailer !== undefined) parts.push(trailer);
  return parts;
}

export function decodeBatchBody(buf: Buffer): BatchEntry[] {
  const out: BatchEntry[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 22) throw new RemotingFrameError(`truncated batch entry at byte ${at}`);
    const size = buf.readInt32BE(at);
    const bodyLength = buf.readInt32BE(at + 16);
    if (size < 22 || at + size > buf.length || 20 + bodyLength + 2 > size) {
      throw new RemotingFrameError(`corrupt batch entry at byte ${at}: size ${size}, body ${bodyLength}`);
    }
    const flag = buf.readInt32BE(at + 12);
    const body = Buffer.from(buf.subarray(at + 20, at + 20 + bodyLength));
    const propsLength = buf.readInt16BE(at + 20 + bodyLength);
    const propsStart = at + 22 + bodyLength;
    out.push({
      flag,
      body,
      properties: decodeProperties(buf.toString('utf8', propsStart, propsStart + propsLength)),
    });
    at += size;
  }
  return out;
}
