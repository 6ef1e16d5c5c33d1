import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { checkName } from './topology.js';
import { fromUrl } from './url.js';

describe('settings of what the driver declares', () => {
  it("default to today's: durable, not auto-delete, no extra arguments", () => {
    expect(parseConfig({})).toMatchObject({
      exchangeDurable: true,
      exchangeAutoDelete: false,
      exchangeArguments: {},
      queueDurable: true,
      queueAutoDelete: false,
      queueArguments: {},
    });
  });

  it('come from URL query parameters as true/false, naming a bad one', () => {
    const c = fromUrl(
      new URL(
        'amqp://h/v?exchangeDurable=false&exchangeAutoDelete=true&queueDurable=false&queueAutoDelete=true',
      ),
    );
    expect(c).toMatchObject({
      exchangeDurable: false,
      exchangeAutoDelete: true,
      queueDurable: false,
      queueAutoDelete: true,
    });
    expect(() => fromUrl(new URL('amqp://h/v?exchangeDurable=no'))).toThrow(/exchangeDurable/);
  });

  it('arguments are an object; the ones with a field of their own are refused by name', () => {
    const c = parseConfig({
      exchangeArguments: { 'alternate-exchange': 'ae' },
      queueArguments: { 'x-max-length': 5 },
    });
    expect(c.exchangeArguments).toEqual({ 'alternate-exchange': 'ae' });
    expect(c.queueArguments).toEqual({ 'x-max-length': 5 });
    expect(() => parseConfig({ queueArguments: { 'x-queue-type': 'quorum' } })).toThrow(
      /queueArguments.*queueType/s,
    );
    expect(() => parseConfig({ queueArguments: { 'x-expires': 1000 } })).toThrow(/queueExpiresMs/);
    expect(() => parseConfig({ exchangeArguments: 'x' })).toThrow(/exchangeArguments/);
  });

  it('quorum queues cannot be non-durable or auto-delete', () => {
    expect(() => parseConfig({ queueType: 'quorum', queueDurable: false })).toThrow(/queueDurable/);
    expect(() => parseConfig({ queueType: 'quorum', queueAutoDelete: true })).toThrow(/queueAutoDelete/);
  });
});

describe('AMQP name limit', () => {
  it('counts UTF-8 bytes, not characters, against 255', () => {
    expect(() => checkName('exchange name', 'x'.repeat(255), 'destination')).not.toThrow();
    expect(() => checkName('exchange name', 'é'.repeat(127), 'destination')).not.toThrow();
    let error: unknown;
    try {
      checkName('exchange name', 'é'.repeat(128), 'destination');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      retryable: false,
      details: { field: 'destination', bytes: 256, limit: 255 },
    });
    expect((error as Error).message).toMatch(/256 bytes.*at most 255 bytes/);
  });
});
