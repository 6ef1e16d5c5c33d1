import { describe, expect, it } from 'vitest';
import { decodeRouteData, encodeRouteData, quoteIntegerKeys, type TopicRouteData } from './route.js';

const route: TopicRouteData = {
  queueDatas: [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
  brokerDatas: [
    { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '127.0.0.1:10911' } },
  ],
  filterServerTable: {},
};

describe('route data', () => {
  it('decodes the sheet §1.5 standard body', () => {
    const body =
      '{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
      '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}';
    expect(decodeRouteData(Buffer.from(body))).toEqual(route);
  });

  it("decodes fastjson's integer keys and the old topicSynFlag spelling", () => {
    const body =
      '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911", 1 :"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
      '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":2,"writeQueueNums":4}]}';
    const back = decodeRouteData(body);
    expect(back.brokerDatas[0]?.brokerAddrs).toEqual({ '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' });
    expect(back.queueDatas[0]?.topicSysFlag).toBe(2);
  });

  it('always quotes keys and writes both flag spellings', () => {
    const text = encodeRouteData(route).toString();
    expect(text).toContain('"brokerAddrs":{"0":"127.0.0.1:10911"}');
    expect(text).toContain('"topicSysFlag":0');
    expect(text).toContain('"topicSynFlag":0');
    expect(decodeRouteData(encodeRouteData({ ...route, orderTopicConf: 'broker-a:4' }))).toEqual({
      ...route,
      orderTopicConf: 'broker-a:4',
    });
  });

  it('leaves digits inside strings and arrays alone', () => {
    expect(quoteIntegerKeys('{"a":"{0:1}","b":[1,2],3:{4:5}}')).toBe('{"a":"{0:1}","b":[1,2],"3":{"4":5}}');
    expect(quoteIntegerKeys('{"a\\"":1}')).toBe('{"a\\"":1}');
  });

  it('rejects a body that is not a route', () => {
    expect(() => decodeRouteData('not json')).toThrow(/not JSON/);
    expect(() => decodeRouteData('{}')).toThrow(/queueDatas/);
  });
});
