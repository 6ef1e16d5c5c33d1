import { inspect } from 'node:util';
import { Secret } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { fromUrl, parseConfig } from './config.js';

describe('config object', () => {
  it('applies defaults and turns credentials into Secrets in TDMQ order', () => {
    const c = parseConfig({ endpoints: 'rmq-1.example.com:8080', token: 'role-token-abc', role: 'my-role' });
    expect(c.naming).toBe('full');
    expect(c.topicType).toBe('MIXED');
    expect(c.tls).toBe(false);
    expect(c.requestTimeoutMs).toBe(3_000);
    expect(c.credentials?.accessKey).toBeInstanceOf(Secret);
    expect(c.credentials?.accessKey.reveal()).toBe('role-token-abc');
    expect(c.credentials?.secretKey.reveal()).toBe('my-role');
    expect(inspect(c)).not.toContain('role-token-abc');
    expect(JSON.stringify(c)).not.toContain('my-role');
  });

  it('accepts accessKey/secretKey as the same thing as token/role', () => {
    const c = parseConfig({ endpoints: 'h:1', accessKey: 'T', secretKey: new Secret('R') });
    expect(c.credentials?.accessKey.reveal()).toBe('T');
    expect(c.credentials?.secretKey.reveal()).toBe('R');
  });

  it('names the bad field', () => {
    expect(() => parseConfig({ endpoints: 'http://h:1' })).toThrow(/config\.endpoints/);
    expect(() => parseConfig({ endpoints: 'a:1;b:2' })).toThrow(/single address/);
    expect(() => parseConfig({ endpoints: 'h:1', topicType: 'LITE' })).toThrow(/config\.topicType/);
    expect(() => parseConfig({ endpoints: 'h:1', requestTimeoutMs: 10 })).toThrow(/config\.requestTimeoutMs/);
    expect(() => parseConfig({ endpoints: 'h:1', bogus: 1 })).toThrow(/bogus/);
    expect(() => parseConfig({ endpoints: 'h:1', token: 't' })).toThrow(/config\.secretKey/);
    expect(() => parseConfig({ endpoints: 'h:1', role: 'r' })).toThrow(/config\.accessKey/);
    expect(() => parseConfig({ endpoints: 'h:1', token: 't', accessKey: 'a', role: 'r' })).toThrow(
      /config\.token/,
    );
    expect(() => parseConfig({ endpoints: 'h:1', ensureGroup: 'nope' })).toThrow(/config\.ensureGroup/);
  });

  it('never echoes a secret in a validation error', () => {
    try {
      parseConfig({ endpoints: 'h:1', token: 'tok-secret-value', role: 5 });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('tok-secret-value');
      expect(error).toMatchObject({ code: 'CONFIG' });
    }
  });
});

describe('rocketmq:// URL', () => {
  it('reads host, port, query and userinfo as token:role', () => {
    const c = fromUrl(
      new URL(
        'rocketmq://tok%7Cen:role-name@rmq.example.com:8080?namespace=ns1&cluster=rocketmq-abc&naming=field',
      ),
    );
    expect(c.endpoints).toBe('rmq.example.com:8080');
    expect(c.namespace).toBe('ns1');
    expect(c.cluster).toBe('rocketmq-abc');
    expect(c.naming).toBe('field');
    expect(c.tls).toBe(false);
    expect(c.credentials?.accessKey.reveal()).toBe('tok|en');
    expect(c.credentials?.secretKey.reveal()).toBe('role-name');
  });

  it('rocketmq+tls:// turns TLS on; numbers and booleans are parsed', () => {
    const c = fromUrl(new URL('rocketmq+tls://h:8081?topicType=FIFO&fifoGroups=true&longPollMs=2000'));
    expect(c.tls).toBe(true);
    expect(c.topicType).toBe('FIFO');
    expect(c.fifoGroups).toBe(true);
    expect(c.longPollMs).toBe(2_000);
    expect(c.credentials).toBeUndefined();
  });

  it('names the bad part', () => {
    expect(() => fromUrl(new URL('rocketmq://h'))).toThrow(/host and port/);
    expect(() => fromUrl(new URL('rocketmq://h:1/ns'))).toThrow(/no path/);
    expect(() => fromUrl(new URL('rocketmq://h:1?nope=1'))).toThrow(/nope/);
    expect(() => fromUrl(new URL('rocketmq://h:1?longPollMs=abc'))).toThrow(/longPollMs/);
    expect(() => fromUrl(new URL('rocketmq://h:1?namespace=a&namespace=b'))).toThrow(
      /namespace is given twice/,
    );
    expect(() => fromUrl(new URL('rocketmq://tokenonly@h:1'))).toThrow(/secretKey/);
    expect(() => fromUrl(new URL('amqp://h:1'))).toThrow(/scheme/);
  });
});
