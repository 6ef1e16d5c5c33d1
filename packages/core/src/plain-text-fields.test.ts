import { describe, expect, it } from 'vitest';
import { decodeEnvelope, plainTextFields } from './envelope.js';

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
});
