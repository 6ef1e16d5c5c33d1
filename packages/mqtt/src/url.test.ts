import { describe, expect, it } from 'vitest';
import { driver } from './driver.js';
import { fromUrl } from './url.js';

describe('fromUrl', () => {
  it('reads transport, host, port, credentials and options', () => {
    const c = fromUrl(
      new URL('mqtts://svc:p%40ss@broker.example:8884?protocolVersion=3.1.1&sessionExpirySeconds=60'),
    );
    expect(c).toMatchObject({ protocol: 'mqtts', host: 'broker.example', port: 8884, username: 'svc' });
    expect(c.password?.reveal()).toBe('p@ss');
    expect(c.protocolVersion).toBe(4);
    expect(c.sessionExpirySeconds).toBe(60);
    expect(JSON.stringify(c)).not.toContain('p@ss');
  });

  it('takes the WebSocket path from ws:// and mqtt+wss:// URLs', () => {
    expect(fromUrl(new URL('ws://h:8080/mqtt-ws'))).toMatchObject({
      protocol: 'ws',
      path: '/mqtt-ws',
      port: 8080,
    });
    expect(fromUrl(new URL('mqtt+wss://h/ws'))).toMatchObject({ protocol: 'wss', path: '/ws' });
  });

  it('names the bad part', () => {
    expect(() => fromUrl(new URL('mqtt://h/topic'))).toThrow(/has no path/);
    expect(() => fromUrl(new URL('mqtt://h?qos=2'))).toThrow(/qos/);
    expect(() => fromUrl(new URL('mqtt://h?unroutable=drop'))).toThrow(/unroutable/);
    expect(() => fromUrl(new URL('amqp://h'))).toThrow(/mqtt:\/\//);
  });

  it('every scheme the driver declares parses', () => {
    for (const scheme of driver.schemes) expect(fromUrl(new URL(`${scheme}://h`)).host).toBe('h');
  });
});
