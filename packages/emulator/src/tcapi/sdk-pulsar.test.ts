// The real tencentcloud-sdk-nodejs TDMQ client against the emulator over plain HTTP: every Pulsar
// action, and the messaging semantics the emulator promises (docs/tencentcloud-api.md).

import http from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CRED, rejection, sdk, startTestServer, type TestServer } from '../../test-kit/tcapi.js';
import { DEFAULT_CLUSTER_ID } from '../pulsar/engine.js';

const { TencentCloudSDKHttpException } = sdk;

const CLUSTER = DEFAULT_CLUSTER_ID;
/** Characters that every query/form encoder treats differently. */
const ODD_PAYLOAD = "hé llo & = + % '()!*~";
let srv: TestServer;
let client: Client;
let n = 0;

beforeAll(async () => {
  srv = await startTestServer();
  client = srv.client();
  await client.CreateEnvironment({
    ClusterId: CLUSTER,
    EnvironmentId: 'ns1',
    MsgTTL: 86_400,
    RetentionPolicy: { TimeInMinutes: 10, SizeInMB: 100 },
  });
});
afterAll(() => srv.close());

/** A fresh partitioned topic (and path) per test so tests stay independent. */
async function topic(partitions = 3, extra: Record<string, unknown> = {}) {
  const name = `t${++n}`;
  await client.CreateTopic({
    ClusterId: CLUSTER,
    EnvironmentId: 'ns1',
    TopicName: name,
    Partitions: partitions,
    ...extra,
  });
  return { name, path: `${CLUSTER}/ns1/${name}` };
}

async function subscribe(topicName: string, sub: string) {
  return client.CreateSubscription({
    ClusterId: CLUSTER,
    EnvironmentId: 'ns1',
    TopicName: topicName,
    SubscriptionName: sub,
    IsIdempotent: false,
  });
}

async function receiveAll(path: string, sub: string) {
  const r = await client.ReceiveMessage({
    Topic: path,
    SubscriptionName: sub,
    MaxNumMessages: 100,
    Timeout: 50,
  });
  return { ids: (r.MessageIDList ?? '').split('###'), payloads: (r.MessagesPayload ?? '').split('###') };
}

describe('Pulsar messaging through the SDK', () => {
  it('send → receive → ack round trip; then an empty receive is FailedOperation.ReceiveTimeout', async () => {
    const t = await topic();
    await subscribe(t.name, 's');
    const sent = await client.SendMessages({ Topic: t.path, Payload: 'hello world' });
    expect(sent.MessageId).toMatch(/^\d+:\d+:[0-2]$/);
    expect(sent.ErrorMsg).toBe('');
    expect(sent.RequestId).toMatch(/^[0-9a-f-]{36}$/);

    const got = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    expect(got.MessageID).toBe(sent.MessageId);
    expect(got.MessagePayload).toBe('hello world');
    expect(got.SubName).toBe('s');
    expect(got.AckTopic).toBe(`persistent://${t.path}`);
    expect(got.ErrorMsg).toBe('');

    const ack = await client.AcknowledgeMessage({
      MessageId: got.MessageID ?? '',
      AckTopic: got.AckTopic ?? '',
      SubName: 's',
    });
    expect(ack.ErrorMsg).toBe('');

    const err = await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' }));
    expect(err).toBeInstanceOf(TencentCloudSDKHttpException);
    expect(err.code).toBe('FailedOperation.ReceiveTimeout');
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts persistent://, tenant/ns/topic and public/default/topic forms', async () => {
    await client.CreateTopic({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      TopicName: 'plain',
      Partitions: 2,
    });
    await client.CreateSubscription({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      TopicName: 'plain',
      SubscriptionName: 's',
      IsIdempotent: true,
    });
    await client.SendMessages({ Topic: 'plain', Payload: 'a' });
    await client.SendMessages({ Topic: 'public/default/plain', Payload: 'b' });
    await client.SendMessages({ Topic: `persistent://${CLUSTER}/default/plain`, Payload: 'c' });
    const all = await receiveAll(`persistent://${CLUSTER}/default/plain`, 's');
    expect(all.payloads).toEqual(['a', 'b', 'c']);
  });

  it('batch send + batch receive joins ids and payloads with ###, ambiguously when a body contains ###', async () => {
    const t = await topic(2);
    await subscribe(t.name, 's');
    const ids: string[] = [];
    for (const payload of ['one', 'two', 'x###y', 'four']) {
      const r = await client.SendBatchMessages({ Topic: t.path, Payload: payload, BatchingMaxMessages: 10 });
      ids.push(r.MessageId ?? '');
    }
    const r = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 's',
      MaxNumMessages: 10,
      Timeout: 100,
    });
    expect(r.MessageIDList?.split('###')).toEqual(ids);
    // Four messages, five pieces: the real API joins without escaping, so does the emulator.
    expect(r.MessagesPayload).toBe('one###two###x###y###four');
    expect(r.MessagesPayload?.split('###')).toHaveLength(5);
    expect(r.MessageID).toBeNull();
    expect(r.AckTopic).toBe(`persistent://${t.path}`);
  });

  it('batch receive stops at MaxNumMessages, at MaxNumBytes and at ReceiverQueueSize', async () => {
    const t = await topic(2);
    await subscribe(t.name, 's');
    for (let i = 0; i < 10; i++) await client.SendMessages({ Topic: t.path, Payload: `m${i}-xxxxx` }); // 8 bytes each
    const byCount = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's', MaxNumMessages: 3 });
    expect(byCount.MessagesPayload).toBe('m0-xxxxx###m1-xxxxx###m2-xxxxx');
    const byBytes = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 's',
      MaxNumBytes: 20,
      Timeout: 2000,
    });
    expect(byBytes.MessagesPayload?.split('###')).toEqual(['m3-xxxxx', 'm4-xxxxx', 'm5-xxxxx']);
    const byQueue = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 's',
      MaxNumMessages: 10,
      ReceiverQueueSize: 2,
    });
    expect(byQueue.MessagesPayload).toBe('m6-xxxxx###m7-xxxxx');
  });

  it('a batch receive long-polls until a message arrives (count threshold 1)', async () => {
    const t = await topic(2);
    await subscribe(t.name, 's');
    const pending = client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 's',
      MaxNumMessages: 1,
      Timeout: 5000,
    });
    await vi.waitFor(() => expect(srv.handler.pulsar.pendingPolls).toBe(1), { timeout: 10_000 });
    await client.SendMessages({ Topic: t.path, Payload: 'late' });
    const r = await pending;
    expect(r.MessagesPayload).toBe('late');
  });

  it('redelivers an un-acked message after the ack timeout, with the same MessageID', async () => {
    const t = await topic(2, { AckTimeOut: 60 });
    await subscribe(t.name, 's');
    await client.SendMessages({ Topic: t.path, Payload: 'again' });
    const first = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    expect((await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.ReceiveTimeout',
    );
    srv.clock.advance(59_000);
    expect((await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.ReceiveTimeout',
    );
    srv.clock.advance(1_000);
    const second = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    expect(second.MessageID).toBe(first.MessageID);
    expect(second.MessagePayload).toBe('again');
    await client.AcknowledgeMessage({
      MessageId: second.MessageID ?? '',
      AckTopic: second.AckTopic ?? '',
      SubName: 's',
    });
    srv.clock.advance(120_000);
    expect((await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.ReceiveTimeout',
    );
  });

  it('an ack naming another subscription is not applied', async () => {
    const t = await topic(2, { AckTimeOut: 60 });
    await subscribe(t.name, 's');
    await client.SendMessages({ Topic: t.path, Payload: 'p' });
    const got = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    const ack = await client.AcknowledgeMessage({
      MessageId: got.MessageID ?? '',
      AckTopic: t.path,
      SubName: 'other',
    });
    expect(ack.ErrorMsg).toBe('');
    srv.clock.advance(60_000);
    expect((await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' })).MessageID).toBe(
      got.MessageID,
    );
  });

  it('competing consumers on one subscription share its cursor; another subscription sees everything', async () => {
    const t = await topic(3);
    await subscribe(t.name, 'shared');
    await subscribe(t.name, 'audit');
    for (let i = 0; i < 6; i++) await client.SendMessages({ Topic: t.path, Payload: `m${i}` });
    const [a, b] = await Promise.all([
      client.ReceiveMessage({ Topic: t.path, SubscriptionName: 'shared', MaxNumMessages: 3 }),
      client.ReceiveMessage({ Topic: t.path, SubscriptionName: 'shared', MaxNumMessages: 3 }),
    ]);
    const pa = a.MessagesPayload?.split('###') ?? [];
    const pb = b.MessagesPayload?.split('###') ?? [];
    expect(pa).toHaveLength(3);
    expect(pb).toHaveLength(3);
    expect(new Set([...pa, ...pb])).toEqual(new Set(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']));
    expect((await receiveAll(t.path, 'audit')).payloads).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('a new subscription starts at Earliest by default, or at Latest when asked', async () => {
    const t = await topic(2);
    await subscribe(t.name, 'keeper'); // holds the backlog so the messages are retained
    await client.SendMessages({ Topic: t.path, Payload: 'before-1' });
    await client.SendMessages({ Topic: t.path, Payload: 'before-2' });
    const early = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 'early',
      MaxNumMessages: 10,
      Timeout: 50,
    });
    expect(early.MessagesPayload).toBe('before-1###before-2');
    const late = await rejection(
      client.ReceiveMessage({ Topic: t.path, SubscriptionName: 'late', SubInitialPosition: 'Latest' }),
    );
    expect(late.code).toBe('FailedOperation.ReceiveTimeout');
    await client.SendMessages({ Topic: t.path, Payload: 'after' });
    const late2 = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 'late',
      SubInitialPosition: 'Latest',
    });
    expect(late2.MessagePayload).toBe('after');
    // CreateSubscription starts at the latest position, like Pulsar's admin API.
    await subscribe(t.name, 'created');
    expect(
      (await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 'created' }))).code,
    ).toBe('FailedOperation.ReceiveTimeout');
  });

  it('ResetMsgSubOffsetByTimestamp rewinds into acknowledged messages', async () => {
    const t = await topic(2);
    await subscribe(t.name, 's');
    const t0 = srv.clock.now();
    await client.SendMessages({ Topic: t.path, Payload: 'm1' });
    srv.clock.advance(10_000);
    const t1 = srv.clock.now();
    await client.SendMessages({ Topic: t.path, Payload: 'm2' });
    const got = await client.ReceiveMessage({
      Topic: t.path,
      SubscriptionName: 's',
      MaxNumMessages: 10,
      Timeout: 50,
    });
    for (const id of got.MessageIDList?.split('###') ?? []) {
      await client.AcknowledgeMessage({ MessageId: id, AckTopic: got.AckTopic ?? '', SubName: 's' });
    }
    const reset = { ClusterId: CLUSTER, EnvironmentId: 'ns1', TopicName: t.name, Subscription: 's' };
    expect((await client.ResetMsgSubOffsetByTimestamp({ ...reset, ToTimestamp: t1 })).Result).toBe(true);
    expect((await receiveAll(t.path, 's')).payloads).toEqual(['m2']);
    await client.ResetMsgSubOffsetByTimestamp({ ...reset, ToTimestamp: t0 });
    expect((await receiveAll(t.path, 's')).payloads).toEqual(['m1', 'm2']);
    const missing = await rejection(
      client.ResetMsgSubOffsetByTimestamp({ ...reset, Subscription: 'nope', ToTimestamp: t0 }),
    );
    expect(missing.code).toBe('ResourceNotFound.Subscription');
  });

  it('retention keeps acknowledged messages only for the namespace retention time; TTL expires unacked ones', async () => {
    const t = await topic(2);
    await subscribe(t.name, 's');
    const start = srv.clock.now();
    await client.SendMessages({ Topic: t.path, Payload: 'kept' });
    const got = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    await client.AcknowledgeMessage({
      MessageId: got.MessageID ?? '',
      AckTopic: got.AckTopic ?? '',
      SubName: 's',
    });
    const reset = {
      ClusterId: CLUSTER,
      EnvironmentId: 'ns1',
      TopicName: t.name,
      Subscription: 's',
      ToTimestamp: start,
    };
    srv.clock.advance(9 * 60_000); // within the 10-minute retention
    await client.ResetMsgSubOffsetByTimestamp(reset);
    const again = await client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' });
    expect(again.MessagePayload).toBe('kept');
    await client.AcknowledgeMessage({
      MessageId: again.MessageID ?? '',
      AckTopic: again.AckTopic ?? '',
      SubName: 's',
    });
    srv.clock.advance(2 * 60_000); // now past retention: the message is gone for good
    await client.ResetMsgSubOffsetByTimestamp(reset);
    expect((await rejection(client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.ReceiveTimeout',
    );

    const ttl = await topic(2, { MsgTTL: 60 });
    await subscribe(ttl.name, 's');
    await client.SendMessages({ Topic: ttl.path, Payload: 'stale' });
    const subs = { ClusterId: CLUSTER, EnvironmentId: 'ns1', TopicName: ttl.name };
    expect((await client.DescribeSubscriptions(subs)).SubscriptionSets?.[0]?.MsgBacklog).toBe('1');
    srv.clock.advance(61_000);
    expect((await rejection(client.ReceiveMessage({ Topic: ttl.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.ReceiveTimeout',
    );
    expect((await client.DescribeSubscriptions(subs)).SubscriptionSets?.[0]?.MsgBacklog).toBe('0');
  });

  it('messages sent while a topic has no subscription and no retention are not kept (Pulsar semantics)', async () => {
    await client.CreateTopic({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      TopicName: 'noretain',
      Partitions: 2,
    });
    await client.SendMessages({ Topic: `${CLUSTER}/default/noretain`, Payload: 'lost' });
    const err = await rejection(
      client.ReceiveMessage({ Topic: `${CLUSTER}/default/noretain`, SubscriptionName: 's' }),
    );
    expect(err.code).toBe('FailedOperation.ReceiveTimeout');
  });
});

describe('Pulsar management through the SDK', () => {
  it('clusters and environments', async () => {
    const clusters = await client.DescribeClusters({});
    expect(clusters.ClusterSet?.map((c) => c.ClusterId)).toContain(CLUSTER);
    const envs = await client.DescribeEnvironments({ ClusterId: CLUSTER });
    expect(envs.EnvironmentSet?.map((e) => e.EnvironmentId).sort()).toEqual(['default', 'ns1']);
    expect(envs.EnvironmentSet?.find((e) => e.EnvironmentId === 'ns1')?.RetentionPolicy).toEqual({
      TimeInMinutes: 10,
      SizeInMB: 100,
    });
    const dup = await rejection(
      client.CreateEnvironment({ ClusterId: CLUSTER, EnvironmentId: 'ns1', MsgTTL: 600 }),
    );
    expect(dup.code).toBe('ResourceInUse.Namespace');
    const noCluster = await rejection(client.DescribeEnvironments({ ClusterId: 'pulsar-nope' }));
    expect(noCluster.code).toBe('ResourceNotFound.Cluster');
    const created = await client.CreateEnvironment({
      ClusterId: CLUSTER,
      EnvironmentId: 'ns2',
      MsgTTL: 600,
      Remark: 'r',
    });
    expect(created).toMatchObject({ EnvironmentId: 'ns2', MsgTTL: 600, Remark: 'r' });
  });

  it('CreateTopic / DescribeTopics / DeleteTopics', async () => {
    await client.CreateEnvironment({ ClusterId: CLUSTER, EnvironmentId: 'mgmt', MsgTTL: 600 });
    const base = { ClusterId: CLUSTER, EnvironmentId: 'mgmt' };
    const created = await client.CreateTopic({ ...base, TopicName: 'orders', Partitions: 4, Remark: 'r1' });
    expect(created).toMatchObject({
      EnvironmentId: 'mgmt',
      TopicName: 'orders',
      Partitions: 4,
      Remark: 'r1',
    });
    await client.CreateTopic({ ...base, TopicName: 'orders-audit', Partitions: 1 });
    await client.CreateTopic({ ...base, TopicName: 'billing', Partitions: 2 });
    expect((await rejection(client.CreateTopic({ ...base, TopicName: 'orders', Partitions: 4 }))).code).toBe(
      'ResourceInUse.Topic',
    );
    expect(
      (await rejection(client.CreateTopic({ ...base, TopicName: 'bad name', Partitions: 1 }))).code,
    ).toBe('InvalidParameterValue');
    expect((await rejection(client.CreateTopic({ ...base, TopicName: 'x', Partitions: 33 }))).code).toBe(
      'InvalidParameterValue',
    );
    expect(
      (await rejection(client.CreateTopic({ ...base, EnvironmentId: 'nope', TopicName: 'x', Partitions: 2 })))
        .code,
    ).toBe('ResourceNotFound.Environment');

    const all = await client.DescribeTopics(base);
    expect(all.TotalCount).toBe(3);
    const orders = all.TopicSets?.find((t) => t.TopicName === 'orders');
    expect(orders).toMatchObject({
      Partitions: 4,
      PulsarTopicType: 3,
      Remark: 'r1',
      EnvironmentId: 'mgmt',
      ClusterId: CLUSTER,
    });
    expect(orders?.SubTopicSets).toHaveLength(4);
    expect(all.TopicSets?.find((t) => t.TopicName === 'orders-audit')?.PulsarTopicType).toBe(2);
    expect((await client.DescribeTopics({ ...base, TopicName: 'orders' })).TotalCount).toBe(2);
    const exact = await client.DescribeTopics({
      ...base,
      Filters: [{ Name: 'TopicName', Values: ['orders'] }],
    });
    expect(exact.TopicSets?.map((t) => t.TopicName)).toEqual(['orders']);
    const paged = await client.DescribeTopics({ ...base, Offset: 1, Limit: 1 });
    expect(paged.TotalCount).toBe(3);
    expect(paged.TopicSets).toHaveLength(1);

    await client.SendMessages({ Topic: `${CLUSTER}/mgmt/orders`, Payload: 'x' });
    const deleted = await client.DeleteTopics({
      ...base,
      TopicSets: [{ EnvironmentId: 'mgmt', TopicName: 'orders' }],
    });
    expect(deleted.TopicSets).toEqual([{ EnvironmentId: 'mgmt', TopicName: 'orders' }]);
    const gone = await rejection(client.SendMessages({ Topic: `${CLUSTER}/mgmt/orders`, Payload: 'x' }));
    expect(gone.code).toBe('InvalidParameterValue.TopicNotFound');
    const again = await rejection(
      client.DeleteTopics({
        ClusterId: CLUSTER,
        TopicSets: [{ EnvironmentId: 'mgmt', TopicName: 'orders' }],
      }),
    );
    expect(again.code).toBe('ResourceNotFound.Topic');
  });

  it('CreateSubscription / DescribeSubscriptions / DeleteSubscriptions', async () => {
    const t = await topic(2);
    const base = { ClusterId: CLUSTER, EnvironmentId: 'ns1', TopicName: t.name };
    expect((await subscribe(t.name, 'alpha')).Result).toBe(true);
    await subscribe(t.name, 'beta');
    expect((await rejection(subscribe(t.name, 'alpha'))).code).toBe('ResourceInUse.Subscription');
    expect(
      (await client.CreateSubscription({ ...base, SubscriptionName: 'alpha', IsIdempotent: true })).Result,
    ).toBe(true);
    await client.SendMessages({ Topic: t.path, Payload: 'x' });

    const subs = await client.DescribeSubscriptions(base);
    expect(subs.TotalCount).toBe(2);
    expect(subs.SubscriptionSets?.map((s) => [s.SubscriptionName, s.MsgBacklog, s.SubType])).toEqual([
      ['alpha', '1', 'Shared'],
      ['beta', '1', 'Shared'],
    ]);
    const filtered = await client.DescribeSubscriptions({
      ...base,
      Filters: [{ SubscriptionNames: ['beta'] }],
    });
    expect(filtered.SubscriptionSets?.map((s) => s.SubscriptionName)).toEqual(['beta']);
    expect((await client.DescribeSubscriptions({ ...base, SubscriptionName: 'alp' })).TotalCount).toBe(1);

    const del = await client.DeleteSubscriptions({
      SubscriptionTopicSets: [{ EnvironmentId: 'ns1', TopicName: t.name, SubscriptionName: 'alpha' }],
    });
    expect(del.SubscriptionTopicSets).toEqual([
      { EnvironmentId: 'ns1', TopicName: t.name, SubscriptionName: 'alpha' },
    ]);
    expect(
      (await client.DescribeSubscriptions(base)).SubscriptionSets?.map((s) => s.SubscriptionName),
    ).toEqual(['beta']);
    const missing = await rejection(
      client.DeleteSubscriptions({
        ClusterId: CLUSTER,
        SubscriptionTopicSets: [{ EnvironmentId: 'ns1', TopicName: t.name, SubscriptionName: 'alpha' }],
      }),
    );
    expect(missing.code).toBe('ResourceNotFound.Subscription');
    expect((await rejection(subscribe('no-such-topic', 'x'))).code).toBe('ResourceNotFound.Topic');
  });
});

describe('errors as the SDK surfaces them', () => {
  it('parameter validation: missing, wrong type, unknown, out of range', async () => {
    const t = await topic(2);
    const anyClient = client as unknown as { request(a: string, r: unknown): Promise<unknown> };
    const missing = await rejection(anyClient.request('SendMessages', { Payload: 'x' }));
    expect(missing).toBeInstanceOf(TencentCloudSDKHttpException);
    expect(missing.code).toBe('MissingParameter');
    expect(missing.message).toBe('The request is missing a required parameter `Topic`.');
    const wrongType = await rejection(
      anyClient.request('CreateTopic', {
        ClusterId: CLUSTER,
        EnvironmentId: 'ns1',
        TopicName: 'tt',
        Partitions: '3',
      }),
    );
    expect(wrongType.code).toBe('InvalidParameter');
    expect(wrongType.message).toContain('`Partitions`');
    const nested = await rejection(
      anyClient.request('DeleteTopics', {
        ClusterId: CLUSTER,
        TopicSets: [{ EnvironmentId: 'ns1', TopicName: 5 }],
      }),
    );
    expect(nested.code).toBe('InvalidParameter');
    expect(nested.message).toContain('`TopicSets.0.TopicName`');
    const unknown = await rejection(
      anyClient.request('SendMessages', { Topic: t.path, Payload: 'x', Key: 'k' }),
    );
    expect(unknown.code).toBe('UnknownParameter');
    const badPosition = await rejection(
      client.ReceiveMessage({ Topic: t.path, SubscriptionName: 's', SubInitialPosition: 'Middle' }),
    );
    expect(badPosition.code).toBe('InvalidParameterValue');
  });

  it('resource errors on the messaging actions', async () => {
    const np = await topic(1);
    expect((await rejection(client.ReceiveMessage({ Topic: np.path, SubscriptionName: 's' }))).code).toBe(
      'FailedOperation.TopicTypeError',
    );
    expect((await rejection(client.SendMessages({ Topic: 'pulsar-zzz/ns1/x', Payload: 'x' }))).code).toBe(
      'InvalidParameter.TenantNotFound',
    );
    expect((await rejection(client.SendMessages({ Topic: `${CLUSTER}/ns1/none`, Payload: 'x' }))).code).toBe(
      'InvalidParameterValue.TopicNotFound',
    );
    const t = await topic(2);
    expect(
      (await rejection(client.AcknowledgeMessage({ MessageId: 'garbage', AckTopic: t.path, SubName: 's' })))
        .code,
    ).toBe('FailedOperation.MessageIDError');
    expect(
      (await rejection(client.SendMessages({ Topic: t.path, Payload: 'x'.repeat(1024 * 1024 + 1) }))).code,
    ).toMatch(/^(FailedOperation\.MaxMessageSizeError|RequestSizeLimitExceeded)$/);
  });

  it('authentication failures', async () => {
    expect((await rejection(srv.client({ secretKey: 'wrong' }).DescribeClusters({}))).code).toBe(
      'AuthFailure.SignatureFailure',
    );
    expect((await rejection(srv.client({ secretId: 'AKIDunknown' }).DescribeClusters({}))).code).toBe(
      'AuthFailure.SecretIdNotFound',
    );
    expect((await rejection(srv.client({ region: null }).DescribeClusters({}))).code).toBe(
      'MissingParameter',
    );
    const skewed = await startTestServer({ authClock: { now: () => Date.now() + 3_600_000 } });
    try {
      expect((await rejection(skewed.client().DescribeClusters({}))).code).toBe(
        'AuthFailure.SignatureExpire',
      );
    } finally {
      await skewed.close();
    }
  });
});

describe('other wire dialects the SDK speaks', () => {
  it('the real endpoint name (service `tdmq`) resolved to the emulator by a custom lookup', async () => {
    const lookup = ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) =>
      opts?.all
        ? cb(null, [{ address: '127.0.0.1', family: 4 }])
        : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
    const c = new sdk.Client({
      credential: { secretId: CRED.secretId, secretKey: CRED.secretKey },
      region: 'ap-guangzhou',
      profile: {
        httpProfile: {
          endpoint: `tdmq.tencentcloudapi.com:${srv.port}`,
          protocol: 'http://',
          agent: new http.Agent({ lookup }),
        },
      },
    });
    const r = await c.DescribeClusters({});
    expect(r.ClusterSet?.[0]?.ClusterId).toBe(CLUSTER);
  });

  it.each([
    ['HmacSHA256', 'POST'],
    ['HmacSHA1', 'POST'],
    ['HmacSHA256', 'GET'],
    ['HmacSHA1', 'GET'],
    ['TC3-HMAC-SHA256', 'GET'],
  ] as const)(
    '%s over %s: management with nested arrays, send, batch receive, ack',
    async (signMethod, reqMethod) => {
      const c = srv.client({ signMethod, reqMethod });
      const name = `legacy${++n}`;
      await c.CreateTopic({
        ClusterId: CLUSTER,
        EnvironmentId: 'ns1',
        TopicName: name,
        Partitions: 2,
        Tags: [{ TagKey: 'env', TagValue: 'test' }],
        IsolateConsumerEnable: false,
      });
      await c.CreateSubscription({
        ClusterId: CLUSTER,
        EnvironmentId: 'ns1',
        TopicName: name,
        SubscriptionName: 's',
        IsIdempotent: true,
      });
      const path = `${CLUSTER}/ns1/${name}`;
      const sent = await c.SendMessages({ Topic: path, Payload: ODD_PAYLOAD });
      const got = await c.ReceiveMessage({
        Topic: path,
        SubscriptionName: 's',
        MaxNumMessages: 5,
        Timeout: 50,
      });
      expect(got.MessageIDList).toBe(sent.MessageId);
      expect(got.MessagesPayload).toBe(ODD_PAYLOAD);
      expect(
        (await c.AcknowledgeMessage({ MessageId: sent.MessageId ?? '', AckTopic: path, SubName: 's' }))
          .ErrorMsg,
      ).toBe('');
      const del = await c.DeleteTopics({
        ClusterId: CLUSTER,
        TopicSets: [{ EnvironmentId: 'ns1', TopicName: name }],
      });
      expect(del.TopicSets).toEqual([{ EnvironmentId: 'ns1', TopicName: name }]);
      const bad = srv.client({ signMethod, reqMethod, secretKey: 'nope' });
      expect((await rejection(bad.DescribeClusters({}))).code).toBe('AuthFailure.SignatureFailure');
    },
  );
});
