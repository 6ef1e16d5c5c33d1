import { outgoing as plainOutgoing } from '@switchyard/conformance/outgoing';
import { decodeEnvelope, encodeBody, type Outgoing, TEXT, utf8 } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BODY_BYTES, MAX_PAYLOAD_BYTES, pulsarHttpCapabilities } from './capabilities.js';
import { decodePayload, encodePayload } from './codec.js';
import { packMessages, unpack } from './pack.js';

const outgoing = (body: Uint8Array | string, extra: Partial<Outgoing> = {}): Outgoing =>
  plainOutgoing({
    id: 'id-1',
    body: typeof body === 'string' ? utf8(body) : body,
    contentType: TEXT,
    ...extra,
  });

describe('raw mode', () => {
  it('sends the body byte for byte, a leading BOM included', () => {
    const body = '\uFEFFhéllo ### wörld';
    expect(encodePayload(outgoing(body), 'raw')).toBe(body);
    expect(Buffer.from(decodePayload(body, '1:2:0', 'raw').body).equals(Buffer.from(body))).toBe(true);
  });

  it('declares that it carries no key, so the portable layer refuses one instead of dropping it', () => {
    expect(pulsarHttpCapabilities({ mode: 'raw' }).maxKeysPerMessage).toBe(0);
    expect(pulsarHttpCapabilities({ mode: 'envelope' }).maxKeysPerMessage).toBe(1);
  });

  it('refuses a payload over 1 MiB before any request, naming the limit', () => {
    const big = outgoing('x'.repeat(MAX_PAYLOAD_BYTES + 1));
    expect(() => encodePayload(big, 'raw')).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }));
    expect(() => encodePayload(big, 'raw')).toThrow(String(MAX_PAYLOAD_BYTES));
  });
});

describe('envelope mode', () => {
  it('round-trips headers, key and binary bodies, with no # on the wire', () => {
    const bytes = new Uint8Array([0, 35, 35, 35, 255]);
    const payload = encodePayload(outgoing(bytes, { key: 'k#1', headers: { 'x-#': '###' } }), 'envelope');
    expect(payload).not.toContain('#');
    const back = decodePayload(payload, '1:2:0', 'envelope');
    expect(Buffer.from(back.body).equals(Buffer.from(bytes))).toBe(true);
    expect(back).toMatchObject({ id: 'id-1', key: 'k#1', headers: { 'x-#': '###' } });
  });

  it('refuses a body whose envelope (base64) outgrows 1 MiB', () => {
    const body = new Uint8Array(800 * 1024).fill(0xff);
    expect(() => encodePayload(outgoing(body), 'envelope')).toThrow(
      /is \d+ bytes in its envelope .*pulsar-http accepts at most 1048576 bytes/,
    );
  });

  it('carries every body up to the advertised limit, binary or text that JSON escaping would grow', () => {
    const caps = pulsarHttpCapabilities({ mode: 'envelope' });
    expect(caps.maxMessageBytes).toBe(MAX_ENVELOPE_BODY_BYTES);
    // A dead-letter copy's headers, with the longest reason the portable layer writes.
    const headers = { 'x-switchyard-dead-letter-reason': 'r'.repeat(1_001), 'x-tenant': 'acme' };
    const bodies = [
      new Uint8Array(caps.maxMessageBytes).fill(0xff),
      utf8('#'.repeat(caps.maxMessageBytes)), // `\u0023` on the wire: 6× as JSON text
      utf8('"\\\n'.repeat(caps.maxMessageBytes / 3)),
    ];
    for (const body of bodies) {
      const payload = encodePayload(outgoing(body, { headers }), 'envelope');
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      expect(payload).not.toContain('#');
      const back = decodePayload(payload, '1:2:0', 'envelope');
      expect(Buffer.from(back.body).equals(Buffer.from(body))).toBe(true);
      expect(back.contentType).toBe(TEXT);
      expect(back.headers).toEqual(headers);
    }
  });

  it('keeps a text body readable as JSON text when it fits', () => {
    const payload = encodePayload(outgoing('a "quoted" #tag'), 'envelope');
    expect(JSON.parse(payload)).toMatchObject({ b: 'a "quoted" #tag' });
  });

  it('advertises the API limit for raw bodies, and the envelope limit once a nack copies them', () => {
    expect(pulsarHttpCapabilities({ mode: 'raw' }).maxMessageBytes).toBe(MAX_PAYLOAD_BYTES);
    expect(encodePayload(outgoing('x'.repeat(MAX_PAYLOAD_BYTES)), 'raw')).toHaveLength(MAX_PAYLOAD_BYTES);
    expect(pulsarHttpCapabilities({ mode: 'raw', nackMode: 'retry-topic' }).maxMessageBytes).toBe(
      MAX_ENVELOPE_BODY_BYTES,
    );
  });

  it('reads payloads from producers that do not use the envelope as plain bodies', () => {
    expect(decodePayload('{"plain":true}', '5:1:1', 'envelope')).toMatchObject({ id: '5:1:1', headers: {} });
  });
});

describe('packing', () => {
  it('packs up to the count limit and unpacks in order, keeping ids', () => {
    const messages = Array.from({ length: 7 }, (_, i) => outgoing(`m-${i}#`, { id: `id-${i}` }));
    const { packs, errors } = packMessages(messages, 3);
    expect(errors.size).toBe(0);
    expect(packs.map((p) => p.members)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    for (const pack of packs) expect(pack.payload).not.toContain('#');
    const back = unpack(packs[1]!.payload, '9:9:0');
    expect(back?.map((f) => f.id)).toEqual(['id-3', 'id-4', 'id-5']);
    expect(back?.map((f) => Buffer.from(f.body).toString())).toEqual(['m-3#', 'm-4#', 'm-5#']);
  });

  it('starts a new pack before 1 MiB and reports a message too large alone', () => {
    const half = 'y'.repeat(400 * 1024);
    const messages = [
      outgoing(half),
      outgoing(half),
      outgoing(half),
      outgoing('z'.repeat(MAX_PAYLOAD_BYTES)),
    ];
    const { packs, errors } = packMessages(messages, 100);
    expect(packs.map((p) => p.members)).toEqual([[0, 1], [2]]);
    for (const p of packs) expect(Buffer.byteLength(p.payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(errors.get(3)).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });

  it('leaves anything that is not a pack alone', () => {
    expect(unpack('plain', '1:1:1')).toBeUndefined();
    expect(unpack('{"_switchyard_pack":1,"m":[broken', '1:1:1')).toBeUndefined();
    expect(decodeEnvelope('{"_switchyard_pack":1,"m":[]}', 'x').id).toBe('x');
  });
});

describe('raw payloads from the caller’s string (Outgoing.text)', () => {
  it('are the same text as decoding the bytes would give, BOM, astral and lone surrogates included', () => {
    for (const body of ['héllo ✓ 😀', '\uFEFFbom', '', 'a\uD800b', { json: 'é' }]) {
      const { bytes, text } = encodeBody(body);
      expect(encodePayload(outgoing(bytes, { text }), 'raw')).toBe(encodePayload(outgoing(bytes), 'raw'));
    }
  });

  it('take the string as it is, and still refuse one over the payload limit', () => {
    // Bytes that do not decode to the string: only a driver reading `text` sends the string.
    expect(encodePayload(outgoing(new Uint8Array([0x61]), { text: 'b' }), 'raw')).toBe('b');
    const { bytes, text } = encodeBody('é'.repeat(MAX_PAYLOAD_BYTES / 2 + 1));
    expect(() => encodePayload(outgoing(bytes, { text }), 'raw')).toThrow(/bytes on the wire/);
  });
});
