import { describe, expect, it } from 'vitest';
import { hasControlBytes, hasControlBytesByMemchr } from './control-bytes.js';

const isControl = (b: number) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f;

describe('hasControlBytes', () => {
  it('finds every control byte but tab, LF and CR, and DEL, at every place of a short body', () => {
    for (let b = 0; b < 256; b++) {
      for (const length of [1, 15, 16, 17, 63, 64, 65, 200]) {
        for (const at of [0, length >> 1, length - 1]) {
          const body = new Uint8Array(length).fill(0x61);
          body[at] = b;
          expect(hasControlBytes(body)).toBe(isControl(b));
        }
      }
    }
    expect(hasControlBytes(new Uint8Array(0))).toBe(false);
  });

  it('looks only at the view, in every chunk, to the last byte of a large body', () => {
    const buffer = new Uint8Array(600_000).fill(0x78);
    buffer[0] = 0x00;
    buffer[buffer.length - 1] = 0x00;
    expect(hasControlBytes(buffer.subarray(1, buffer.length - 1))).toBe(false);
    for (const at of [262_143, 262_144, 262_145, 524_288, 599_998]) {
      buffer[at] = 0x1b;
      expect(hasControlBytes(buffer.subarray(1, buffer.length - 1))).toBe(true);
      buffer[at] = 0x78;
    }
    // A chunk left in the scanner's memory is not read again: a shorter body after a longer one.
    buffer[100] = 0x01;
    expect(hasControlBytes(buffer.subarray(1, buffer.length - 1))).toBe(true);
    expect(hasControlBytes(buffer.subarray(200, 250))).toBe(false);
  });

  it('answers as one memchr per control byte does, on random bodies', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 2_000; round++) {
      const body = new Uint8Array(random() % 300);
      for (let i = 0; i < body.length; i++) body[i] = 0x20 + (random() % 0x5f);
      if (round % 2 === 0 && body.length > 0) body[random() % body.length] = random() % 256;
      const offset = body.length > 0 ? random() % body.length : 0;
      const view = body.subarray(offset);
      expect(hasControlBytes(view)).toBe(hasControlBytesByMemchr(view));
    }
  });
});
