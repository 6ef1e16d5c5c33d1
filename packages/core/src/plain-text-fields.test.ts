import { describe, expect, it } from 'vitest';
import { LAZY_TEXT_CHARS } from './body.js';
import { decodeEnvelope, plainTextDelivery, plainTextFields } from './envelope.js';
import { Message, type Settler } from './message.js';

describe('plainTextFields', () => {
  it('is the text as UTF-8 bytes with no metadata, publishedAt where the broker gave one', () => {
    const fields = plainTextFields('m-1', 'héllo', 1_700_000_000_000);
    expect(Buffer.from(fields.body).toString('utf8')).toBe('héllo');
    expect(fields.body.length).toBe(6);
    expect(fields).toMatchObject({
      id: 'm-1',
      contentType: undefined,
      headers: {},
      key: undefined,
      tags: [],
      routingKey: undefined,
      orderingKey: undefined,
      publishedAt: 1_700_000_000_000,
    });
    expect(plainTextFields('m-2', '').publishedAt).toBeUndefined();
  });

  it('is what decodeEnvelope makes of a body that is not an envelope', () => {
    const text = '{"order": 42}';
    expect(decodeEnvelope(text, 'native-id')).toEqual(plainTextFields('native-id', text));
  });

  it('keeps the received text, which message.text() returns as decoding the body would', () => {
    const settler = {} as Settler;
    const read = (text: string) => {
      const fields = plainTextFields('m', text);
      expect(fields.text).toBe(text);
      const message = new Message(
        { ...fields, deliveryAttempt: 1, native: undefined, handle: undefined },
        1,
        settler,
      );
      return { text: message.text(), decoded: Buffer.from(message.body).toString('utf8') };
    };
    expect(read('héllo ✓')).toEqual({ text: 'héllo ✓', decoded: 'héllo ✓' });
    const long = 'é✓'.repeat(LAZY_TEXT_CHARS);
    expect(read(long)).toEqual({ text: long, decoded: long });
    // Decoding drops a leading BOM and the encoding replaces a lone surrogate: text() does the same.
    expect(read('\uFEFFabc').text).toBe('abc');
    expect(read('a\uD800b').text).toBe('a\uFFFDb');
  });
});

describe('plainTextDelivery', () => {
  it('carries the driver fields beside the text, the body of a long text unencoded until read', () => {
    const short = plainTextDelivery('m-1', 'héllo', 5, 2, 'k', 'n', 'h');
    expect(short).toMatchObject({ id: 'm-1', text: 'héllo', publishedAt: 5, deliveryAttempt: 2 });
    expect(short).toMatchObject({ attemptKey: 'k', native: 'n', handle: 'h', headers: {}, tags: [] });
    expect(Buffer.from(short.body).toString('utf8')).toBe('héllo');
    const text = 'é✓'.repeat(LAZY_TEXT_CHARS);
    const long = plainTextDelivery('m-2', text, undefined, 1, undefined, undefined, undefined);
    expect(Object.getOwnPropertyDescriptor(long, 'body')?.get).toBeTypeOf('function');
    expect(Object.keys(long)).toEqual(Object.keys(short));
    expect(Buffer.from(long.body).toString('utf8')).toBe(text);
    expect(long.body).toBe(long.body);
  });
});
