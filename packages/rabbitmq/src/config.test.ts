import { inspect } from 'node:util';
import { Secret } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { rabbitCapabilities } from './capabilities.js';
import { parseConfig } from './config.js';
import { fromUrl } from './url.js';

const TOKEN = 'eyJ-role-token-Qx9!zz';

describe('fromUrl', () => {
  it('reads user, password, host, port and a plain vhost', () => {
    const c = fromUrl(new URL('amqp://alice:s3cret@mq.example.com:5673/orders'));
    expect(c).toMatchObject({
      protocol: 'amqp',
      host: 'mq.example.com',
      port: 5673,
      username: 'alice',
      vhost: 'orders',
    });
    expect(c.password.reveal()).toBe('s3cret');
  });

  it('defaults: localhost, port by scheme, vhost "/", guest/guest only when no credentials', () => {
    expect(fromUrl(new URL('amqp://'))).toMatchObject({
      host: 'localhost',
      port: 5672,
      vhost: '/',
      username: 'guest',
    });
    expect(fromUrl(new URL('amqp://')).password.reveal()).toBe('guest');
    expect(fromUrl(new URL('amqps://h'))).toMatchObject({ protocol: 'amqps', port: 5671 });
    expect(fromUrl(new URL('amqp://h/%2F')).vhost).toBe('/');
    expect(fromUrl(new URL('amqp://bob@h')).password.reveal()).toBe('');
  });

  it('TDMQ: URL-encoded cluster|vhost, role name as user, role token as password', () => {
    const url = `amqp://my-role:${encodeURIComponent(TOKEN)}@amqp-xxxx.rabbitmq.tencenttdmq.com:5672/amqp-abc123%7Cprod`;
    const c = fromUrl(new URL(url));
    expect(c.vhost).toBe('amqp-abc123|prod');
    expect(c.username).toBe('my-role');
    expect(c.password.reveal()).toBe(TOKEN);
    // The same with the cluster as a query parameter.
    expect(fromUrl(new URL('amqp://r:t@h/prod?cluster=amqp-abc123')).vhost).toBe('amqp-abc123|prod');
  });

  it('reads options from the query and rejects unknown ones by name', () => {
    const c = fromUrl(
      new URL(
        'amqps://u:p@h/v?queueType=quorum&exchangeType=direct&topology=check&heartbeat=30&unroutable=error',
      ),
    );
    expect(c).toMatchObject({
      queueType: 'quorum',
      exchangeType: 'direct',
      topology: 'check',
      heartbeatSeconds: 30,
      unroutable: 'error',
    });
    expect(fromUrl(new URL('amqp://h/v?queueExpiresMs=60000')).queueExpiresMs).toBe(60_000);
    expect(() => fromUrl(new URL('amqp://h/v?queueExpiresMs=10'))).toThrow(/queueExpiresMs/);
    expect(() => fromUrl(new URL('amqp://h/v?prefetchh=1'))).toThrow(/prefetchh/);
    expect(() => fromUrl(new URL('amqp://h/v?queueType=stream'))).toThrow(/queueType/);
    expect(() => fromUrl(new URL('amqp://h/a/b'))).toThrow(/%2F/);
    expect(() => fromUrl(new URL('http://h/v'))).toThrow(/amqp/);
  });

  it('amqps TLS options from the query', () => {
    const c = fromUrl(new URL('amqps://h/v?rejectUnauthorized=false&servername=mq.internal'));
    expect(c.tls).toEqual({ rejectUnauthorized: false, servername: 'mq.internal' });
  });

  it('never shows the password when the config is printed', () => {
    const c = fromUrl(new URL(`amqp://u:${encodeURIComponent(TOKEN)}@h/v`));
    expect(inspect(c, { depth: 5 })).not.toContain(TOKEN);
    expect(JSON.stringify(c)).not.toContain(TOKEN);
  });
});

describe('parseConfig', () => {
  it('takes the TDMQ fields cluster, vhost, role and token', () => {
    const c = parseConfig({
      host: 'h',
      cluster: 'amqp-abc123',
      vhost: 'prod',
      role: 'my-role',
      token: TOKEN,
    });
    expect(c).toMatchObject({ vhost: 'amqp-abc123|prod', username: 'my-role' });
    expect(c.password.reveal()).toBe(TOKEN);
  });

  it('accepts a Secret and keeps it', () => {
    const secret = new Secret(TOKEN);
    expect(parseConfig({ password: secret, username: 'u' }).password).toBe(secret);
  });

  it('refuses contradictions and bad values, naming the field without echoing secrets', () => {
    expect(() => parseConfig({ username: 'a', role: 'b' })).toThrow(/config\.role/);
    expect(() => parseConfig({ password: 'x', token: TOKEN })).toThrow(/config\.token/);
    expect(() => parseConfig({ cluster: 'c', vhost: 'c|v' })).toThrow(/config\.vhost/);
    expect(() => parseConfig({ cluster: 'c' })).toThrow(/vhost/);
    expect(() => parseConfig({ queueName: '{source}' })).toThrow(/\{group\}/);
    expect(() => parseConfig({ port: 70_000 })).toThrow(/config\.port/);
    try {
      parseConfig({ password: 42, token: TOKEN });
    } catch (error) {
      expect(String(error)).not.toContain(TOKEN);
      expect(error).toMatchObject({ code: 'CONFIG' });
    }
  });
});

describe('capabilities follow the config', () => {
  const base = {
    queueType: 'classic',
    exchangeType: 'topic',
    topology: 'declare',
    delayLevels: 30,
    maxMessageBytes: 1_000,
  } as const;

  it('quorum queues count and dead-letter natively; classic ones leave it to the portable layer', () => {
    expect(rabbitCapabilities(base)).toMatchObject({ deadLetter: 'emulated', deliveryAttempt: 'carried' });
    expect(rabbitCapabilities({ ...base, queueType: 'quorum' })).toMatchObject({
      deadLetter: 'native',
      deliveryAttempt: 'native',
    });
  });

  it('delays need declared delay queues; fanout has no routing keys', () => {
    expect(rabbitCapabilities(base)).toMatchObject({
      delayedSend: 'native',
      nackDelay: 'native',
      maxDelayMs: 2 ** 30 - 1,
    });
    expect(rabbitCapabilities({ ...base, topology: 'check' })).toMatchObject({
      delayedSend: false,
      nackDelay: 'emulated',
    });
    expect(rabbitCapabilities({ ...base, exchangeType: 'fanout' }).routingKeyFilter).toBe(false);
    expect(Object.isFrozen(rabbitCapabilities(base))).toBe(true);
  });
});
