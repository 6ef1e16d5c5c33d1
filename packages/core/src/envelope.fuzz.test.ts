// Fuzz of the envelope decoder (issue 9), 10,000 runs per property with fixed seeds
// (SWITCHYARD_FUZZ_RUNS / SWITCHYARD_FUZZ_SEED locally): decodeEnvelope never throws — anything that
// is not a well-formed envelope is a raw body (interop) — and always returns well-typed fields;
// envelopes with arbitrary and hostile field values decode without crashing; every encoded message
// round-trips.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';

const RUNS = Math.max(10_000, Number(process.env.SWITCHYARD_FUZZ_RUNS) || 0);
const fuzz = (seed: number) => ({ numRuns: RUNS, seed: Number(process.env.SWITCHYARD_FUZZ_SEED) || seed });
const TIMEOUT = (30_000 * RUNS) / 10_000;

/** Plain checks, not expect(): this runs 10,000s of times and expect() costs more than decoding. */
function wellTyped(d: ReturnType<typeof decodeEnvelope>): void {
  const ok =
    typeof d.id === 'string' &&
    d.body instanceof Uint8Array &&
    typeof d.headers === 'object' &&
    d.headers !== null &&
    Object.values(d.headers).every((v) => typeof v === 'string') &&
    Array.isArray(d.tags) &&
    d.tags.every((t) => typeof t === 'string');
  if (!ok) throw new Error(`badly typed decode: ${JSON.stringify(d)}`);
}

const fieldValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxKeys: 3 }),
  // base64 that is not base64, huge numbers, prototype keys
  fc.constantFrom('!!!', '====', '\u0000', '__proto__', 1e308, -0, Number.MAX_SAFE_INTEGER + 2),
);
const envelopeLike = fc
  .record(
    {
      version: fc.oneof(fc.constant(1), fieldValue),
      id: fc.oneof(fc.string(), fieldValue),
      fields: fc.dictionary(
        fc.oneof(
          fc.constantFrom('ct', 'ts', 'k', 'rk', 'ok', 'b', 'b64', 't', 'h', '__proto__', 'constructor'),
          fc.string(),
        ),
        fieldValue,
        { maxKeys: 6 },
      ),
      cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
    },
    { requiredKeys: ['version', 'id', 'fields'] },
  )
  .map(({ version, id, fields, cut }) => {
    const text = `{"_switchyard":${JSON.stringify(version) ?? '1'},"id":${JSON.stringify(id) ?? '""'}${Object.entries(
      fields,
    )
      .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`)
      .join('')}}`;
    return cut === undefined ? text : text.slice(0, cut % (text.length + 1));
  });

describe('envelope decoder (fuzz)', () => {
  it(
    'never throws on arbitrary text; non-envelopes come back as the raw body',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (s) => {
          const d = decodeEnvelope(s, 'fallback');
          wellTyped(d);
          if (!s.startsWith('{"_switchyard"')) {
            if (d.id !== 'fallback' || !Buffer.from(d.body).equals(Buffer.from(s, 'utf8'))) {
              throw new Error('a non-envelope must come back as its raw body');
            }
          }
        }),
        fuzz(20261204),
      );
    },
    TIMEOUT,
  );

  it(
    'never throws on envelope-shaped JSON with hostile or truncated fields',
    () => {
      fc.assert(
        fc.property(envelopeLike, (s) => wellTyped(decodeEnvelope(s, 'fallback'))),
        fuzz(20261205),
      );
    },
    TIMEOUT,
  );

  it(
    'round-trips every encoded message',
    () => {
      fc.assert(
        fc.property(
          fc.record({
            id: fc.string({ minLength: 1 }),
            body: fc.uint8Array({ maxLength: 64 }),
            headers: fc.dictionary(fc.string({ minLength: 1 }), fc.string()),
            tags: fc.array(fc.string(), { maxLength: 3 }),
            key: fc.option(fc.string(), { nil: undefined }),
            routingKey: fc.option(fc.string(), { nil: undefined }),
            orderingKey: fc.option(fc.string(), { nil: undefined }),
            contentType: fc.string(),
            publishedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
          }),
          (m) => {
            const d = decodeEnvelope(encodeEnvelope({ ...m, delayMs: undefined }), 'x');
            const { id, headers, tags, key, routingKey, orderingKey, publishedAt, contentType } = d;
            expect({
              id,
              headers,
              tags,
              key,
              routingKey,
              orderingKey,
              publishedAt,
              contentType,
              body: [...d.body],
            }).toEqual({
              ...m,
              body: [...m.body],
            });
          },
        ),
        fuzz(20261206),
      );
    },
    TIMEOUT,
  );
});
