import { describe, expect, it } from 'vitest';
import { signature, signedContent, signRequest, verifyRequest } from './acl.js';

// Sheet §5.2: the SEND_MESSAGE_V2 header Java 4.9.8 sends with namespace rocketmq-demo|ns1.
const header: Record<string, string> = {
  a: 'rocketmq-demo|ns1%pg_demo',
  b: 'rocketmq-demo|ns1%TopicTest',
  c: 'TBW102',
  d: '4',
  e: '0',
  f: '0',
  g: '1700000000000',
  h: '0',
  i: 'TAGS\u0001TagA\u0002KEYS\u0001order-1\u0002WAIT\u0001true\u0002UNIQ_KEY\u0001AC11000118B46D1B7C5A47B760000000\u0002INSTANCE_ID\u0001rocketmq-demo|ns1',
  j: '0',
  k: 'false',
  m: 'false',
  n: 'broker-a',
};
const body = Buffer.from('Hello RocketMQ');
const ak = 'rocketmq-demo-token';
const sk = 'demo-role';

describe('signRequest', () => {
  it('reproduces the sheet §5.2 signature and signed content', () => {
    const signed = signRequest(header, body, ak, sk);
    expect(signed.Signature).toBe('0T9utLEnhww5mBSP4+fenujKE/I=');
    expect(signed.AccessKey).toBe(ak);
    expect(signedContent(signed, body).length).toBe(231);
    expect(signedContent({ ...header, AccessKey: ak }).toString()).toMatch(
      /^rocketmq-demo-tokenrocketmq-demo\|ns1%pg_demo/,
    );
  });

  it('signs a body in pieces as the same body in one buffer', () => {
    const parts = [body.subarray(0, 5), body.subarray(5, 5), body.subarray(5)];
    expect(signRequest(header, parts, ak, sk).Signature).toBe('0T9utLEnhww5mBSP4+fenujKE/I=');
  });

  it('reproduces the sheet §5.2 variants', () => {
    expect(signRequest({ ...header, OnsChannel: 'ALIYUN' }, body, ak, sk).Signature).toBe(
      'KTNPnmKHQmJ1tT6/0QHXMq14YyI=',
    );
    expect(signRequest(header, body, ak, sk, 'tok').Signature).toBe('f9wy+eH9mE70br4yxO9if/RFtZI=');
    expect(signRequest({ topic: 'rocketmq-demo|ns1%TopicTest' }, undefined, ak, sk).Signature).toBe(
      'JZ1+D9ofEEIXtuhUS6W2QHBZjyM=',
    );
    expect(signature(Buffer.from(`${ak}rocketmq-demo|ns1%TopicTest`), sk)).toBe(
      'JZ1+D9ofEEIXtuhUS6W2QHBZjyM=',
    );
  });
});

describe('verifyRequest', () => {
  it('accepts a signed request and one with extra signed fields', () => {
    expect(verifyRequest(signRequest(header, body, ak, sk), body, sk)).toBe(true);
    expect(verifyRequest(signRequest({ ...header, OnsChannel: 'ALIYUN' }, body, ak, sk), body, sk)).toBe(
      true,
    );
    expect(verifyRequest({ ...signRequest(header, body, ak, sk), _UNIQUE_KEY_QUERY: 'x' }, body, sk)).toBe(
      true,
    );
  });

  it('rejects a wrong secret, a changed field, a changed body and a missing signature', () => {
    const signed = signRequest(header, body, ak, sk);
    expect(verifyRequest(signed, body, 'other-role')).toBe(false);
    expect(verifyRequest({ ...signed, e: '1' }, body, sk)).toBe(false);
    expect(verifyRequest(signed, Buffer.from('Hello RocketMQ!'), sk)).toBe(false);
    expect(verifyRequest({ ...header, AccessKey: ak }, body, sk)).toBe(false);
  });
});
