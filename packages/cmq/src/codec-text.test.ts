import { outgoing as plainOutgoing } from '@switchyard/conformance/outgoing';
import { encodeBody, plainTextFields, TEXT, utf8 } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { type CmqMessage, encodeText, toDelivery } from './codec.js';

const outgoing = (body: Uint8Array, text: string | undefined) =>
  plainOutgoing({ body, text, contentType: TEXT });

describe('raw mode with the caller’s string (Outgoing.text)', () => {
  it('sends the same text as decoding the bytes would, BOM, astral and lone surrogates included', () => {
    for (const body of ['héllo ✓ 😀', '\uFEFFbom', '', 'a\uD800b', { json: 'é' }]) {
      const { bytes, text } = encodeBody(body);
      expect(encodeText(outgoing(bytes, text), 'raw', 1 << 20)).toBe(
        encodeText(outgoing(bytes, undefined), 'raw', 1 << 20),
      );
    }
  });

  it('takes the string as it is, without decoding or checking the bytes again', () => {
    // Bytes that are not UTF-8 paired with a string: only a driver reading `text` gets past them.
    expect(encodeText(outgoing(new Uint8Array([0xff]), 'as given'), 'raw', 1 << 20)).toBe('as given');
    expect(() => encodeText(outgoing(new Uint8Array([0xff]), undefined), 'raw', 1 << 20)).toThrow(/UTF-8/);
    expect(encodeText(outgoing(utf8('x'), 'x'), 'raw', 1 << 20)).toBe('x');
  });
});

describe('toDelivery in raw mode', () => {
  const native = (msgBody: string): CmqMessage => ({
    msgId: 'm-1',
    receiptHandle: 'h-1',
    msgBody,
    enqueueTime: 1_700_000_000,
    firstDequeueTime: 1_700_000_001,
    nextVisibleTime: 1_700_000_031,
    dequeueCount: 2,
    queueName: 'q',
  });

  it('gives a short text (one object literal) the same fields as a long one (core’s lazy body)', () => {
    for (const text of ['héllo ✓ 😀', 'x'.repeat(4_095), 'y'.repeat(4_096), 'z'.repeat(70_000)]) {
      const m = native(text);
      const d = toDelivery(m, 'raw');
      expect({ ...d }).toEqual({
        ...plainTextFields('m-1', text, 1_700_000_000_000),
        deliveryAttempt: 2,
        native: m,
        handle: 'h-1',
      });
      expect(d.body).toEqual(utf8(text));
    }
  });
});
