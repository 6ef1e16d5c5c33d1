import { describe, expect, it } from 'vitest';
import { fromUrl, parseConfig } from '../config.js';

describe('remoting config', () => {
  it('reads rocketmq+remoting:// with credentials in TDMQ order and remoting options', () => {
    const c = fromUrl(
      new URL(
        'rocketmq+remoting://TOKEN-x:ROLE-y@rocketmq-abc.rocketmq.ap-sh.public.tencenttdmq.com:9876?cluster=rocketmq-abc&namespace=ns1&delayMode=startDeliverTime&rebalanceIntervalMs=500',
      ),
    );
    expect(c.transport).toBe('remoting');
    expect(c.endpoints).toBe('rocketmq-abc.rocketmq.ap-sh.public.tencenttdmq.com:9876');
    expect(c.credentials?.accessKey.reveal()).toBe('TOKEN-x');
    expect(c.credentials?.secretKey.reveal()).toBe('ROLE-y');
    expect(c.delayMode).toBe('startDeliverTime');
    expect(c.rebalanceIntervalMs).toBe(500);
    expect(c.maxReconsumeTimes).toBe(16);
    expect(c.deadLetter).toBe('emulated');
    expect(fromUrl(new URL('rocketmq+remoting://h:9876?deadLetter=native')).deadLetter).toBe('native');
  });

  it('defaults to gRPC and accepts transport: "remoting" in a config object', () => {
    expect(parseConfig({ endpoints: 'h:8080' }).transport).toBe('grpc');
    const c = parseConfig({ transport: 'remoting', endpoints: 'h:9876', token: 't', role: 'r' });
    expect(c.transport).toBe('remoting');
    expect(c.producerGroup).toBe('switchyard_producer');
  });

  it('refuses options the remoting transport cannot honour', () => {
    expect(() => parseConfig({ transport: 'remoting', endpoints: 'h:9876', naming: 'field' })).toThrow(
      /naming/,
    );
    expect(() => parseConfig({ transport: 'remoting', endpoints: 'h:9876', tls: true })).toThrow(/TLS/);
    expect(() => parseConfig({ transport: 'remoting', endpoints: 'h:9876', maxReconsumeTimes: 17 })).toThrow(
      /maxReconsumeTimes/,
    );
    expect(() => fromUrl(new URL('rocketmq+nope://h:1'))).toThrow(/rocketmq\+remoting:\/\//);
    // Over gRPC the group's server-side attempts decide; the client cannot name a maximum.
    expect(() => parseConfig({ endpoints: 'h:8080', deadLetter: 'native' })).toThrow(/deadLetter/);
  });
});
