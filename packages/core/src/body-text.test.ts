import { describe, expect, it } from 'vitest';
import { decodeText, LAZY_TEXT_CHARS } from './body.js';
import { defineCapabilities } from './capabilities.js';
import { memoryCapabilities } from './memory/driver.js';
import { prepareOutgoing } from './outgoing.js';

const textOnly = defineCapabilities({ ...memoryCapabilities, binaryBodies: false });

describe('Outgoing.text: the caller’s string kept beside the bytes', () => {
  it('is the string body itself, exactly the bytes’ UTF-8 decoding', () => {
    for (const body of ['héllo ✓ 😀', '\uFEFFleading BOM', '']) {
      const outgoing = prepareOutgoing({ body, key: 'k' }, memoryCapabilities, 'memory');
      expect(outgoing.text).toBe(body);
      expect(Buffer.from(outgoing.body).toString('utf8')).toBe(body);
      expect(prepareOutgoing(body, memoryCapabilities, 'memory').text).toBe(body);
    }
  });

  it('is the serialised JSON for a JSON body', () => {
    const outgoing = prepareOutgoing({ body: { a: 'é', lone: '\uD800' } }, memoryCapabilities, 'memory');
    expect(outgoing.text).toBe(JSON.stringify({ a: 'é', lone: '\uD800' }));
    expect(decodeText(outgoing.body)).toBe(outgoing.text);
  });

  it('is absent for bytes, and for a string with a lone surrogate (the encoding replaced it)', () => {
    expect(prepareOutgoing(new Uint8Array([104, 105]), memoryCapabilities, 'memory').text).toBeUndefined();
    const lone = prepareOutgoing('a\uD800b', memoryCapabilities, 'memory');
    expect(lone.text).toBeUndefined();
    expect([...lone.body]).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
  });

  it('a text-only driver still refuses bytes that are not UTF-8, and takes any string', () => {
    expect(() => prepareOutgoing(new Uint8Array([0xff]), textOnly, 'memory')).toThrow(/not UTF-8/);
    expect(prepareOutgoing('a\uD800b', textOnly, 'memory').text).toBeUndefined();
  });

  it('bodyBytes is the body’s UTF-8 length without reading body, and a spread copy carries the bytes', () => {
    // Texts of LAZY_TEXT_CHARS or more leave their bytes to the first read of body.
    const long = 'é✓'.repeat(LAZY_TEXT_CHARS);
    const bodies = ['héllo ✓ 😀', 'a\uD800b', new Uint8Array([1, 2, 3]), { a: 'é' }, '', long, { long }];
    for (const body of bodies) {
      const outgoing = prepareOutgoing({ body }, memoryCapabilities, 'memory');
      expect(outgoing.bodyBytes).toBe(outgoing.body.byteLength);
      const copy = { ...outgoing, headers: { added: '1' } };
      expect(Buffer.from(copy.body).equals(Buffer.from(outgoing.body))).toBe(true);
      if (outgoing.text !== undefined) expect(decodeText(outgoing.body)).toBe(outgoing.text);
    }
    expect(prepareOutgoing('é'.repeat(10), memoryCapabilities, 'memory').bodyBytes).toBe(20);
  });

  it('measures a string body in UTF-8 bytes against maxMessageBytes, not in characters', () => {
    const small = defineCapabilities({ ...memoryCapabilities, maxMessageBytes: 10 });
    expect(prepareOutgoing('é'.repeat(5), small, 'memory').bodyBytes).toBe(10);
    expect(() => prepareOutgoing('é'.repeat(6), small, 'memory')).toThrow(/12 bytes/);
  });
});
