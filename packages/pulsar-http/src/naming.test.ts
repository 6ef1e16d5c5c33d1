import { describe, expect, it } from 'vitest';
import { qualifyTopic, retryTopicName } from './naming.js';

describe('qualifyTopic', () => {
  it('qualifies a short name with the configured cluster and namespace', () => {
    expect(qualifyTopic('orders', 'pulsar-abc', 'prod')).toEqual({
      path: 'pulsar-abc/prod/orders',
      clusterId: 'pulsar-abc',
      environmentId: 'prod',
      topicName: 'orders',
    });
    expect(qualifyTopic('other/orders', 'pulsar-abc', 'prod').path).toBe('pulsar-abc/other/orders');
  });

  it('passes full names unchanged and still splits them for management', () => {
    expect(qualifyTopic('pulsar-x/ns1/t1', 'pulsar-abc', 'prod')).toEqual({
      path: 'pulsar-x/ns1/t1',
      clusterId: 'pulsar-x',
      environmentId: 'ns1',
      topicName: 't1',
    });
    expect(qualifyTopic('persistent://pulsar-x/ns1/t1', undefined, 'default')).toMatchObject({
      path: 'persistent://pulsar-x/ns1/t1',
      clusterId: 'pulsar-x',
      topicName: 't1',
    });
  });

  it('refuses names it cannot map and short names without a cluster', () => {
    expect(() => qualifyTopic('a/b/c/d', 'c', 'n')).toThrow(/not a Pulsar topic name/);
    expect(() => qualifyTopic('has space', 'c', 'n')).toThrow(/not a Pulsar topic name/);
    expect(() => qualifyTopic('persistent://ns/t', 'c', 'n')).toThrow(/not a Pulsar topic name/);
    expect(() => qualifyTopic('orders', undefined, 'n')).toThrow(/needs a cluster/);
  });
});

describe('retryTopicName', () => {
  const topic = qualifyTopic('orders', 'pulsar-abc', 'prod');
  it('is per group, in the topic namespace, within 64 valid characters', () => {
    expect(retryTopicName(topic, 'billing').path).toBe('pulsar-abc/prod/orders-billing-RETRY');
    const odd = retryTopicName(topic, 'group with spaces');
    expect(odd.topicName).toMatch(/^orders-g[0-9a-f]{8}-RETRY$/);
    expect(retryTopicName(topic, 'group with spaces')).toEqual(odd);
    const long = retryTopicName(qualifyTopic('t'.repeat(60), 'c', 'n'), 'g'.repeat(40));
    expect(long.topicName.length).toBeLessThanOrEqual(64);
    expect(long.topicName).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(retryTopicName(topic, 'a').topicName).not.toBe(retryTopicName(topic, 'b').topicName);
  });
});
