import { inspect } from 'node:util';
import { Secret } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { fromUrl, parseConfig } from './config.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.config-unit-role-token.c2ln';

function configError(run: () => unknown): Error & { code?: string; details?: { fields?: string[] } } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a ConfigError');
}

describe('pulsar config and URLs (unit)', () => {
  it('reads pulsar:// with the default port, the TDMQ names and options from the query', () => {
    const config = fromUrl(
      new URL('pulsar://broker.example:6650?cluster=pulsar-abc&namespace=ns1&subscriptionType=KeyShared'),
    );
    expect(config).toMatchObject({
      serviceUrl: 'pulsar://broker.example:6650',
      cluster: 'pulsar-abc',
      namespace: 'ns1',
      subscriptionType: 'KeyShared',
      tls: false,
      token: undefined,
      batching: true,
      nackRedeliveryMs: 1_000,
    });
    expect(fromUrl(new URL('pulsar://localhost')).serviceUrl).toBe('pulsar://localhost:6650');
  });

  it('pulsar+ssl:// means TLS on 6651, and the token comes from the userinfo as a Secret', () => {
    const config = fromUrl(new URL(`pulsar+ssl://token:${TOKEN}@tdmq.example?batching=false`));
    expect(config.serviceUrl).toBe('pulsar+ssl://tdmq.example:6651');
    expect(config.tls).toBe(true);
    expect(config.batching).toBe(false);
    expect(config.token).toBeInstanceOf(Secret);
    expect(config.token?.reveal()).toBe(TOKEN);
    // A token alone (no "user:") works too.
    expect(fromUrl(new URL(`pulsar://${TOKEN}@h:1`)).token?.reveal()).toBe(TOKEN);
  });

  it('defaults to the public/default namespace of a stock Pulsar', () => {
    expect(parseConfig({ serviceUrl: 'pulsar://h:6650' })).toMatchObject({
      cluster: 'public',
      namespace: 'default',
      subscriptionType: 'Shared',
    });
  });

  it('never prints the token', () => {
    const config = parseConfig({ serviceUrl: 'pulsar://h:6650', token: TOKEN });
    expect(inspect(config)).not.toContain('config-unit-role-token');
    expect(JSON.stringify(config)).not.toContain('config-unit-role-token');
    expect(String(config.token)).not.toContain('config-unit-role-token');
    const bad = configError(() => fromUrl(new URL(`pulsar://token:${TOKEN}@h:6650/a/path`)));
    expect(bad.message).not.toContain('config-unit-role-token');
  });

  it.each([
    ['http://h:6650', /scheme must be pulsar:\/\/ or pulsar\+ssl:\/\//, 'url.scheme'],
    ['pulsar://h:6650/tenant/ns', /no path is allowed/, 'url.path'],
    ['pulsar://h:6650?cluster=a&cluster=b', /cluster is given twice/, 'url.cluster'],
    ['pulsar://h:6650?bogus=1', /bogus/, undefined],
    ['pulsar://h:6650?subscriptionType=Queue', /subscriptionType/, undefined],
    ['pulsar://h:6650?cluster=a/b', /config\.cluster/, undefined],
    ['pulsar://h:6650?nackRedeliveryMs=10', /config\.nackRedeliveryMs/, undefined],
  ])('%s is a CONFIG error naming the field', (url, says, field) => {
    const error = configError(() => fromUrl(new URL(url)));
    expect(error.code).toBe('CONFIG');
    expect(error.message).toMatch(says);
    if (field !== undefined) expect(error.details?.fields).toContain(field);
  });

  it('checks a config object field by field', () => {
    expect(configError(() => parseConfig({})).message).toMatch(/config\.serviceUrl/);
    expect(configError(() => parseConfig({ serviceUrl: 'pulsar://u:p@h:1' })).message).toMatch(
      /config\.serviceUrl: must be pulsar:\/\/host:port/,
    );
    expect(configError(() => parseConfig({ serviceUrl: 'pulsar://h:1', pulsarClient: {} })).message).toMatch(
      /config\.pulsarClient/,
    );
    expect(parseConfig({ serviceUrl: 'pulsar://h1:6650,h2:6650' }).serviceUrl).toBe(
      'pulsar://h1:6650,h2:6650',
    );
  });
});
