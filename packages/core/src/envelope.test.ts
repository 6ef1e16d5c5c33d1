import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
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
