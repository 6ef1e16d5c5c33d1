import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { fromUrl } from './url.js';

const ENV = { TENCENTCLOUD_SECRET_ID: 'AKIDfromEnv', TENCENTCLOUD_SECRET_KEY: 'env-key-Hk29sLq' };

describe('config', () => {
  it('fills defaults: HmacSHA256, queue model, raw bodies, public endpoint of the region', () => {
    const c = parseConfig({ region: 'ap-guangzhou', secretId: 'AKIDx', secretKey: 'k-123456' }, {});
    expect(c.endpoint).toBe('https://cmq-gz.public.tencenttdmq.com');
    expect(c.signatureMethod).toBe('HmacSHA256');
    expect(c.model).toBe('queue');
    expect(c.bodyMode).toBe('raw');
    expect(c.managementEndpoint).toBe('https://tdmq.tencentcloudapi.com');
    expect(c.secretKey?.reveal()).toBe('k-123456');
  });

  it('takes credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY', () => {
    const c = parseConfig({ region: 'ap-shanghai' }, ENV);
    expect(c.secretId).toBe('AKIDfromEnv');
    expect(c.secretKey?.reveal()).toBe('env-key-Hk29sLq');
    expect(c.endpoint).toBe('https://cmq-sh.public.tencenttdmq.com');
  });

  it('explains missing credentials and bad fields by name, never echoing a secret', () => {
    expect(() => parseConfig({ region: 'ap-guangzhou' }, {})).toThrowError(
      /secretId is required.*TENCENTCLOUD_SECRET_ID/,
    );
    expect(() => parseConfig({ region: 'ap-guangzhou', secretId: 'AKIDx' }, {})).toThrowError(
      /TENCENTCLOUD_SECRET_KEY/,
    );
    const bad = (() => {
      try {
        parseConfig(
          { region: 'ap-guangzhou', secretId: 'AKIDx', secretKey: 'top-secret-9', model: 'fifo' },
          {},
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(bad).toMatchObject({ code: 'CONFIG' });
    expect(bad?.message).toContain('config.model');
    expect(bad?.message).not.toContain('top-secret-9');
    expect(() => parseConfig({ region: 'xx-nowhere', secretId: 'a', secretKey: 'b' }, {})).toThrowError(
      /config.endpoint/,
    );
    expect(() =>
      parseConfig({ region: 'ap-guangzhou', endpoint: 'ftp://x', secretId: 'a', secretKey: 'b' }, {}),
    ).toThrowError(/config.endpoint/);
  });

  it('never prints the SecretKey', () => {
    const c = parseConfig({ region: 'ap-guangzhou', secretId: 'AKIDx', secretKey: 'never-print-me-77' }, {});
    expect(inspect(c, { depth: 5 })).not.toContain('never-print-me-77');
    expect(JSON.stringify(c)).not.toContain('never-print-me-77');
  });

  it('requeue nacks need envelope bodies and emulated dead-lettering', () => {
    const base = { region: 'ap-guangzhou', secretId: 'a', secretKey: 'bbbb', nackMode: 'requeue' } as const;
    expect(() => parseConfig(base, {})).toThrowError(/bodyMode "envelope"/);
    expect(() =>
      parseConfig({ ...base, bodyMode: 'envelope', manageTopology: true, deadLetter: 'native' }, {}),
    ).toThrowError(/deadLetter "emulated"/);
    expect(parseConfig({ ...base, bodyMode: 'envelope' }, {}).nackMode).toBe('requeue');
  });

  it('refuses native dead-lettering without topology management', () => {
    expect(() =>
      parseConfig({ region: 'ap-guangzhou', secretId: 'a', secretKey: 'bbbb', deadLetter: 'native' }, {}),
    ).toThrowError(/manageTopology/);
  });
});

describe('URL', () => {
  it('cmq+https://host?region=... with credentials from the environment', () => {
    const c = fromUrl(new URL('cmq+https://cmq-gz.public.tencenttdmq.com?region=ap-guangzhou'), ENV);
    expect(c.endpoint).toBe('https://cmq-gz.public.tencenttdmq.com');
    expect(c.region).toBe('ap-guangzhou');
    expect(c.secretId).toBe('AKIDfromEnv');
  });

  it('cmq+http://127.0.0.1:PORT with user:password credentials and options', () => {
    const c = fromUrl(
      new URL(
        'cmq+http://AKIDurl:p%40ss%2Fword@127.0.0.1:9100?region=ap-guangzhou&model=topic&topicFilter=routing&bodyMode=envelope&manageTopology=true&managementEndpoint=http://127.0.0.1:9200&signatureMethod=HmacSHA1&maxConnections=8',
      ),
      {},
    );
    expect(c.endpoint).toBe('http://127.0.0.1:9100');
    expect(c.secretId).toBe('AKIDurl');
    expect(c.secretKey?.reveal()).toBe('p@ss/word');
    expect(c).toMatchObject({
      model: 'topic',
      topicFilter: 'routing',
      bodyMode: 'envelope',
      manageTopology: true,
      managementEndpoint: 'http://127.0.0.1:9200',
      signatureMethod: 'HmacSHA1',
      maxConnections: 8,
    });
  });

  it('rejects a missing region, an unknown option and a path, naming them', () => {
    expect(() => fromUrl(new URL('cmq+https://h.example'), ENV)).toThrowError(/region/);
    expect(() => fromUrl(new URL('cmq+https://h.example?region=ap-guangzhou&colour=red'), ENV)).toThrowError(
      /colour|unrecognized/i,
    );
    expect(() => fromUrl(new URL('cmq+https://h.example/some/path?region=ap-guangzhou'), ENV)).toThrowError(
      /path/,
    );
    expect(() => fromUrl(new URL('cmq+https://h.example?region=ap-guangzhou&model=fifo'), ENV)).toThrowError(
      /config.model/,
    );
  });
});
