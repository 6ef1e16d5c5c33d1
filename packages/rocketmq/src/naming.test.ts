import { describe, expect, it } from 'vitest';
import { clientNamespace, isFullName, namespacePrefix, qualify } from './naming.js';

const full = { naming: 'full' as const, cluster: 'rocketmq-abc', namespace: 'ns_go' };
const field = { naming: 'field' as const, cluster: 'rocketmq-abc', namespace: 'ns_go' };

describe('TDMQ naming', () => {
  it('qualifies short topic and group names as clusterId|namespace%name', () => {
    expect(qualify('orders', full)).toBe('rocketmq-abc|ns_go%orders');
    expect(qualify('billing-group', full)).toBe('rocketmq-abc|ns_go%billing-group');
    expect(clientNamespace(full)).toBe('');
  });

  it('passes full names unchanged', () => {
    expect(qualify('rocketmq-xyz|other%orders', full)).toBe('rocketmq-xyz|other%orders');
    expect(qualify('tdmq_default%t', full)).toBe('tdmq_default%t');
    expect(isFullName('a|b%c')).toBe(true);
    expect(isFullName('orders')).toBe(false);
  });

  it('uses the namespace alone when no cluster is configured (4.x general cluster)', () => {
    expect(qualify('t', { naming: 'full', cluster: undefined, namespace: 'tdmq_default' })).toBe(
      'tdmq_default%t',
    );
  });

  it('does not qualify a namespace given already qualified', () => {
    const ctx = { naming: 'full' as const, cluster: 'rocketmq-abc', namespace: 'rocketmq-abc|ns' };
    expect(namespacePrefix(ctx)).toBe('rocketmq-abc|ns');
    expect(qualify('t', ctx)).toBe('rocketmq-abc|ns%t');
  });

  it('leaves names alone without a namespace', () => {
    expect(qualify('orders', { naming: 'full', cluster: 'rocketmq-abc', namespace: undefined })).toBe(
      'orders',
    );
    expect(clientNamespace({ naming: 'field', cluster: undefined, namespace: undefined })).toBe('');
  });

  it('in field naming sends short names and puts the namespace in the client field', () => {
    expect(qualify('orders', field)).toBe('orders');
    expect(clientNamespace(field)).toBe('rocketmq-abc|ns_go');
    expect(clientNamespace({ ...field, cluster: undefined })).toBe('ns_go');
  });
});
