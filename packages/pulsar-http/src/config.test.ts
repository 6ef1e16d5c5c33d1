import { inspect } from 'node:util';
import { Secret } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { fromUrl, parseConfig } from './config.js';

const KEY = 'sk-config-test-9a8b7c';

describe('parseConfig', () => {
  it('fills defaults and wraps credentials as Secrets', () => {
    const c = parseConfig(
      { region: 'ap-guangzhou', cluster: 'pulsar-abc', secretId: 'AKID1', secretKey: KEY },
      {},
    );
    expect(c.namespace).toBe('default');
    expect(c.endpoint).toBe('tdmq.tencentcloudapi.com');
    expect(c.protocol).toBe('https');
    expect(c.mode).toBe('raw');
    expect(c.manageTopology).toBe(true);
    expect(c.secretKey).toBeInstanceOf(Secret);
    expect(c.secretKey?.reveal()).toBe(KEY);
    expect(JSON.stringify(c)).not.toContain(KEY);
    expect(inspect(c)).not.toContain(KEY);
  });

  it('takes credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY', () => {
    const c = parseConfig(
      { region: 'ap-shanghai' },
      { TENCENTCLOUD_SECRET_ID: 'AKIDENV', TENCENTCLOUD_SECRET_KEY: KEY },
    );
    expect(c.secretId?.reveal()).toBe('AKIDENV');
    expect(c.secretKey?.reveal()).toBe(KEY);
  });

  it('names missing credentials and bad fields without echoing values', () => {
    expect(() => parseConfig({ region: 'ap-guangzhou' }, {})).toThrow(
      /config\.secretId, config\.secretKey missing.*TENCENTCLOUD_SECRET_ID/,
    );
    const bad = () =>
      parseConfig({ region: 'ap-guangzhou', secretId: 'a', secretKey: KEY, partitions: 99, mode: 'x' }, {});
    expect(bad).toThrow(/config\.partitions/);
    expect(bad).toThrow(/config\.mode/);
    expect(() => parseConfig({ secretId: 'a', secretKey: KEY }, {})).toThrow(/config\.region/);
    expect(() =>
      parseConfig({ region: 'ap-guangzhou', secretId: 'a', secretKey: KEY, endpoint: 'https://x' }, {}),
    ).toThrow(/config\.endpoint/);
    try {
      parseConfig({ region: 'ap-guangzhou', secretId: 'a', secretKey: KEY, bogus: KEY }, {});
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toMatch(/bogus/);
      expect(String(error)).not.toContain(KEY);
    }
  });
});

describe('fromUrl', () => {
  it('reads the real endpoint form', () => {
    const c = fromUrl(
      new URL(
        `pulsar-http+https://AKID2:${KEY}@tdmq.tencentcloudapi.com?region=ap-guangzhou&cluster=pulsar-xyz&namespace=prod&token=role-tok-1&mode=envelope`,
      ),
      {},
    );
    expect(c).toMatchObject({
      endpoint: 'tdmq.tencentcloudapi.com',
      protocol: 'https',
      region: 'ap-guangzhou',
      cluster: 'pulsar-xyz',
      namespace: 'prod',
      mode: 'envelope',
    });
    expect(c.secretId?.reveal()).toBe('AKID2');
    expect(c.secretKey?.reveal()).toBe(KEY);
    expect(c.token?.reveal()).toBe('role-tok-1');
  });

  it('reads the emulator form with a port, plain http and numeric options', () => {
    const c = fromUrl(
      new URL(
        'pulsar-http+http://127.0.0.1:18080?region=ap-guangzhou&cluster=pulsar-emulator&manageTopology=false&partitions=4&receiveWaitMs=250',
      ),
      { TENCENTCLOUD_SECRET_ID: 'AKIDENV', TENCENTCLOUD_SECRET_KEY: KEY },
    );
    expect(c).toMatchObject({
      endpoint: '127.0.0.1:18080',
      protocol: 'http',
      manageTopology: false,
      partitions: 4,
      receiveWaitMs: 250,
    });
  });

  it('decodes percent-encoded credentials and rejects unknown keys and paths', () => {
    const c = fromUrl(
      new URL('pulsar-http+https://AKID3:a%2Fb%40c@tdmq.tencentcloudapi.com?region=ap-guangzhou'),
      {},
    );
    expect(c.secretKey?.reveal()).toBe('a/b@c');
    expect(() => fromUrl(new URL('pulsar-http+https://a:b@h?region=ap-guangzhou&colour=red'), {})).toThrow(
      /colour/,
    );
    expect(() => fromUrl(new URL('pulsar-http+https://a:b@h/ns?region=ap-guangzhou'), {})).toThrow(/no path/);
    expect(() =>
      fromUrl(new URL('pulsar-http+https://a:b@h?region=ap-guangzhou&partitions=two'), {}),
    ).toThrow(/partitions/);
  });

  it('reads nackMode; the default keeps nacked messages on their subscription', () => {
    const base = 'pulsar-http+https://a:b@h?region=ap-guangzhou';
    expect(fromUrl(new URL(base), {}).nackMode).toBe('ack-timeout');
    expect(fromUrl(new URL(`${base}&nackMode=retry-topic`), {}).nackMode).toBe('retry-topic');
    expect(() => fromUrl(new URL(`${base}&nackMode=copy`), {})).toThrow(/nackMode/);
  });

  it('defaults packing to nackMode retry-topic (an ack-timeout return would bring back a whole pack)', () => {
    const base = 'pulsar-http+https://a:b@h?region=ap-guangzhou&mode=envelope&pack=10';
    expect(fromUrl(new URL(base), {}).nackMode).toBe('retry-topic');
    expect(fromUrl(new URL(`${base}&nackMode=ack-timeout`), {}).nackMode).toBe('ack-timeout');
  });
});
