import { describe, expect, it } from 'vitest';
import { qualifyTopic } from './naming.js';

const tdmq = { cluster: 'pulsar-abc123', namespace: 'orders_ns' };

describe('topic naming (unit)', () => {
  it('qualifies a short name with the configured cluster and namespace', () => {
    expect(qualifyTopic('orders', tdmq)).toBe('persistent://pulsar-abc123/orders_ns/orders');
    expect(qualifyTopic('orders', { cluster: 'public', namespace: 'default' })).toBe(
      'persistent://public/default/orders',
    );
  });

  it('keeps the cluster for namespace/topic and completes cluster/namespace/topic', () => {
    expect(qualifyTopic('other_ns/orders', tdmq)).toBe('persistent://pulsar-abc123/other_ns/orders');
    expect(qualifyTopic('pulsar-xyz/ns/orders', tdmq)).toBe('persistent://pulsar-xyz/ns/orders');
  });

  it('passes full names unchanged', () => {
    for (const full of ['persistent://pulsar-xyz/ns/t', 'non-persistent://public/default/t']) {
      expect(qualifyTopic(full, tdmq)).toBe(full);
    }
  });

  it('rejects names Pulsar cannot take, naming the field and the forms that work', () => {
    for (const bad of ['a/b/c/d', 'persistent://ns/t', 'has space', 'a//b', 'x?y', '']) {
      let error: unknown;
      try {
        qualifyTopic(bad, tdmq, 'destination');
      } catch (e) {
        error = e;
      }
      expect(error, bad).toMatchObject({ code: 'INVALID_ARGUMENT', driver: 'pulsar' });
      expect((error as Error).message).toContain(`destination "${bad}" is not a Pulsar topic name`);
      expect((error as Error).message).toContain('persistent://cluster/namespace/topic');
    }
  });
});
