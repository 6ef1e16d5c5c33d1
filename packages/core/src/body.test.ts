import { describe, expect, it } from 'vitest';
import { BINARY, impliedContentType, TEXT, withLazyBody } from './body.js';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('impliedContentType', () => {
  it('reads UTF-8 with tabs and line breaks as text', () => {
    expect(impliedContentType(new TextEncoder().encode('héllo\tworld\r\n'))).toBe(TEXT);
    expect(impliedContentType(new Uint8Array(0))).toBe(TEXT);
  });

  it('reads any other control byte, DEL or invalid UTF-8 as bytes', () => {
    for (let b = 0; b < 0x20; b++) {
      if (b === 0x09 || b === 0x0a || b === 0x0d) continue;
      expect(impliedContentType(bytes(0x61, b, 0x62))).toBe(BINARY);
    }
    expect(impliedContentType(bytes(0x61, 0x7f))).toBe(BINARY);
    expect(impliedContentType(bytes(0xc3, 0x28))).toBe(BINARY);
  });

  it('looks only at the view, not the rest of its buffer', () => {
    const buffer = new Uint8Array([0x00, 0x61, 0x62, 0x00]);
    expect(impliedContentType(buffer.subarray(1, 3))).toBe(TEXT);
    expect(impliedContentType(buffer.subarray(0, 2))).toBe(BINARY);
  });

  it('scans a large body to its last byte', () => {
    const big = new Uint8Array(4 * 1024 * 1024).fill(0x78);
    expect(impliedContentType(big)).toBe(TEXT);
    big[big.length - 1] = 0x01;
    expect(impliedContentType(big)).toBe(BINARY);
  });
});

describe('withLazyBody', () => {
  it('encodes on first read, keeps the bytes, and a spread copy carries them', () => {
    const text = `héllo ${'x'.repeat(5000)}`;
    const fields = withLazyBody({ id: 'a' }, text);
    expect(Object.keys(fields)).toEqual(['id', 'body']);
    const first = fields.body;
    expect(new TextDecoder().decode(first)).toBe(text);
    expect(fields.body).toBe(first);
    expect({ ...fields }.body).toBe(first);
  });

  it('gives every object the same getter, which reads the text from its object', () => {
    // A getter closure per object kept each text alive through scavenges after the object was
    // dropped (the accessor pair lives in old space and held the closure).
    const a = withLazyBody({ id: 'a' }, 'a'.repeat(5000));
    const b = withLazyBody({ id: 'b' }, 'b'.repeat(5000));
    expect(Object.getOwnPropertyDescriptor(a, 'body')?.get).toBe(
      Object.getOwnPropertyDescriptor(b, 'body')?.get,
    );
    expect(new TextDecoder().decode(a.body)).toBe('a'.repeat(5000));
    expect(new TextDecoder().decode(b.body)).toBe('b'.repeat(5000));
  });
});
