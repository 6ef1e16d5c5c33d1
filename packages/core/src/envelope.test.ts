import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, envelopeBodyLimit } from './envelope.js';
import type { Outgoing } from './message-types.js';

const base: Outgoing = {
  id: 'id-1',
  body: new TextEncoder().encode('hello'),
  contentType: 'text/plain; charset=utf-8',
  headers: { a: '1' },
  key: 'k',
  tags: ['t1'],
  routingKey: 'a.b',
  orderingKey: 'o',
  delayMs: undefined,
  publishedAt: 1_700_000_000_000,
};

describe('envelope', () => {
  it('round-trips every field, text and binary bodies', () => {
    const text = decodeEnvelope(encodeEnvelope(base), 'fallback');
    expect(text).toMatchObject({
      id: 'id-1',
      headers: { a: '1' },
      key: 'k',
      tags: ['t1'],
      routingKey: 'a.b',
      orderingKey: 'o',
    });
    expect(new TextDecoder().decode(text.body)).toBe('hello');
    const bytes = new Uint8Array([0, 0xff, 0x80, 10]);
    const binary = decodeEnvelope(encodeEnvelope({ ...base, body: bytes }), 'fallback');
    expect([...binary.body]).toEqual([...bytes]);
  });

  it('reads anything that is not an envelope as a raw body (interop with other producers)', () => {
    for (const raw of ['plain', '{"order":1}', '{"_switchyard":2,"id":"x"}', '{"_switchyard":1}', '']) {
      const decoded = decodeEnvelope(raw, 'native-id');
      expect(decoded.id).toBe('native-id');
      expect(new TextDecoder().decode(decoded.body)).toBe(raw);
      expect(decoded.headers).toEqual({});
    }
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        decodeEnvelope(s, 'x');
        decodeEnvelope(`{"_switchyard":1,${s}`, 'x');
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips arbitrary headers and bodies', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), fc.string()),
        fc.uint8Array(),
        (headers, body) => {
          const decoded = decodeEnvelope(encodeEnvelope({ ...base, headers, body }), 'x');
          expect(decoded.headers).toEqual(headers);
          expect([...decoded.body]).toEqual([...body]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('envelope within a wire limit', () => {
  const text = (body: string) => new TextEncoder().encode(body);
  const noHash = (json: string) => json.replaceAll('#', '\\u0023');

  it('keeps a text body as JSON text while it fits, after the transform', () => {
    const out = encodeEnvelope(
      { ...base, body: text('a "quoted" #tag') },
      { maxBytes: 1_024, transform: noHash },
    );
    expect(out).not.toContain('#');
    expect(JSON.parse(out)).toMatchObject({ b: 'a "quoted" #tag' });
  });

  it('sends base64 when JSON escaping would not fit, and reads back the same bytes and type', () => {
    const body = text('#'.repeat(600));
    const out = encodeEnvelope({ ...base, body }, { maxBytes: 1_200, transform: noHash });
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(1_200);
    expect(JSON.parse(out)).toHaveProperty('b64');
    const back = decodeEnvelope(out, 'x');
    expect([...back.body]).toEqual([...body]);
    expect(back.contentType).toBe(base.contentType);
  });

  it('refuses, typed, naming the limit and the size, what fits in no form', () => {
    const encode = () =>
      encodeEnvelope({ ...base, body: new Uint8Array(3_000) }, { maxBytes: 2_048, driver: 'cmq' });
    expect(encode).toThrow(
      expect.objectContaining({
        code: 'MESSAGE_TOO_LARGE',
        retryable: false,
        driver: 'cmq',
        details: { size: expect.any(Number), limit: 2_048 },
      }),
    );
    expect(encode).toThrow(
      /message id-1 is \d+ bytes in its envelope \(body 3000 bytes\); cmq accepts at most 2048 bytes/,
    );
  });

  it('the advertised body limit is (limit - reserve) × 3/4', () => {
    expect(envelopeBodyLimit(65_536, 4_096)).toBe(46_080);
    expect(envelopeBodyLimit(2_048, 512)).toBe(1_152);
  });

  it('carries every body up to the advertised limit, whatever its bytes, when metadata fits the reserve', () => {
    // Worst cases for JSON text: characters escaped to 2 (quote, backslash) and 6 bytes (controls,
    // or `#` under the transform); and bytes that are not UTF-8.
    const worst = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 1 }),
      fc.constantFrom(...['"', '\\', '\n', '\u0001', '#', 'ü', '€', '😀'].map(text)),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1_024, max: 70_000 }), worst, (maxBytes, unit) => {
        const reserve = Math.min(4_096, maxBytes / 4);
        const size = envelopeBodyLimit(maxBytes, reserve);
        const body = new Uint8Array(size);
        for (let i = 0; i + unit.length <= size; i += unit.length) body.set(unit, i);
        const out = encodeEnvelope({ ...base, body }, { maxBytes, transform: noHash });
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(maxBytes);
        expect([...decodeEnvelope(out, 'x').body]).toEqual([...body]);
      }),
      { numRuns: 60 },
    );
  });
});
