// CMQ over the Tencent Cloud API, driven by the real SDK against startEmulator (which mounts this
// handler next to the CMQ HTTP server). Every action goes through the wire; the shared CmqEngine is
// checked directly to prove both protocols see one state.

import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, rejection, sdk } from '../../test-kit/tcapi.js';
import type { CmqEngine } from '../cmq/engine.js';
import { type RunningEmulator, startEmulator } from '../start.js';

let emu: RunningEmulator;
let client: Client;
let cmq: CmqEngine;

beforeAll(async () => {
  emu = await startEmulator({ cmq: { recreateGuardSeconds: 0 } });
  const cred = emu.credentials[0];
  if (!cred) throw new Error('no credentials');
  client = makeClient(new URL(emu.endpoints.api).host, cred);
  cmq = emu.engines.cmq;
});
afterAll(() => emu.stop());

describe('CMQ queues over the API', () => {
  it('CreateCmqQueue is visible to the engine, with every knob; engine-made queues are visible to the API', async () => {
    await client.CreateCmqQueue({ QueueName: 'dead-letters' });
    const created = await client.CreateCmqQueue({
      QueueName: 'orders',
      VisibilityTimeout: 45,
      PollingWaitSeconds: 2,
      MaxMsgSize: 2048,
      MsgRetentionSeconds: 7200,
      RewindSeconds: 3600,
      DeadLetterQueueName: 'dead-letters',
      Policy: 0,
      MaxReceiveCount: 3,
      Trace: true,
      Tags: [{ TagKey: 'env', TagValue: 'test' }],
    });
    expect(created.QueueId).toMatch(/\S/);
    const inEngine = cmq.getQueueAttributes('orders');
    expect(inEngine).toMatchObject({
      queueId: created.QueueId,
      visibilityTimeout: 45,
      pollingWaitSeconds: 2,
      maxMsgSize: 2048,
      msgRetentionSeconds: 7200,
      rewindSeconds: 3600,
      deadLetterPolicy: { deadLetterQueue: 'dead-letters', policy: 0, maxReceiveCount: 3 },
    });

    const detail = (await client.DescribeCmqQueueDetail({ QueueName: 'orders' })).QueueDescribe;
    expect(detail).toMatchObject({
      QueueId: created.QueueId,
      QueueName: 'orders',
      VisibilityTimeout: 45,
      MaxMsgSize: 2048,
      RewindSeconds: 3600,
      Trace: true,
      Tags: [{ TagKey: 'env', TagValue: 'test' }],
      DeadLetterPolicy: { DeadLetterQueue: 'dead-letters', Policy: 0, MaxReceiveCount: 3 },
      ActiveMsgNum: 0,
      Status: 1,
    });
    // Times are Unix milliseconds in this API (seconds in the CMQ HTTP API).
    const createdSeconds = cmq.getQueueAttributes('orders').createTime;
    expect(Math.floor((detail?.CreateTime ?? 0) / 1000)).toBe(createdSeconds);
    expect(detail?.CreateTime).toBeGreaterThan(createdSeconds * 100);
    const dlq = (await client.DescribeCmqQueueDetail({ QueueName: 'dead-letters' })).QueueDescribe;
    expect(dlq?.DeadLetterSource).toEqual([{ QueueId: created.QueueId, QueueName: 'orders' }]);

    cmq.createQueue('made-by-http', { visibilityTimeout: 99 });
    expect(
      (await client.DescribeCmqQueueDetail({ QueueName: 'made-by-http' })).QueueDescribe?.VisibilityTimeout,
    ).toBe(99);

    expect((await rejection(client.CreateCmqQueue({ QueueName: 'ORDERS' }))).code).toBe(
      'ResourceInUse.Queue',
    );
    expect((await rejection(client.CreateCmqQueue({ QueueName: '9bad' }))).code).toBe(
      'InvalidParameterValue',
    );
    expect((await rejection(client.DescribeCmqQueueDetail({ QueueName: 'nope' }))).code).toBe(
      'ResourceNotFound',
    );
  });

  it('DescribeCmqQueues filters by name, name list and tag, and pages', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) await client.CreateCmqQueue({ QueueName: name });
    await client.ModifyCmqQueueAttribute({ QueueName: 'list-b', VisibilityTimeout: 10 });
    await client.CreateCmqQueue({ QueueName: 'list-tagged', Tags: [{ TagKey: 'team', TagValue: 'blue' }] });
    const fuzzy = await client.DescribeCmqQueues({ QueueName: 'list-' });
    expect(fuzzy.TotalCount).toBe(4);
    const named = await client.DescribeCmqQueues({ QueueNameList: ['list-a', 'list-c'] });
    expect(named.QueueList?.map((q) => q.QueueName)).toEqual(['list-a', 'list-c']);
    const paged = await client.DescribeCmqQueues({ QueueName: 'list-', Offset: 1, Limit: 2 });
    expect(paged.QueueList?.map((q) => q.QueueName)).toEqual(['list-b', 'list-c']);
    expect(paged.QueueList?.[0]?.VisibilityTimeout).toBe(10);
    const tagged = await client.DescribeCmqQueues({
      IsTagFilter: true,
      Filters: [{ Name: 'tag:team', Values: ['blue'] }],
    });
    expect(tagged.QueueList?.map((q) => q.QueueName)).toEqual(['list-tagged']);
  });

  it('SendCmqMsg lands in the engine; ClearCmqQueue empties it; ModifyCmqQueueAttribute and DeleteCmqQueue apply', async () => {
    await client.CreateCmqQueue({ QueueName: 'work' });
    const sent = await client.SendCmqMsg({ QueueName: 'work', MsgContent: 'job-1', DelaySeconds: 0 });
    expect(sent.Result).toBe(true);
    expect(sent.MsgId).toMatch(/\S/);
    await client.SendCmqMsg({ QueueName: 'work', MsgContent: 'job-2', DelaySeconds: 0 });
    await client.SendCmqMsg({ QueueName: 'work', MsgContent: 'later', DelaySeconds: 60 });
    const detail = (await client.DescribeCmqQueueDetail({ QueueName: 'work' })).QueueDescribe;
    expect([detail?.ActiveMsgNum, detail?.DelayMsgNum]).toEqual([2, 1]);
    const got = await cmq.receiveMessages('work', { max: 16, waitSeconds: 0 });
    expect(got.map((m) => [m.msgId, m.msgBody])).toEqual([
      [sent.MsgId, 'job-1'],
      [expect.any(String), 'job-2'],
    ]);

    await client.ClearCmqQueue({ QueueName: 'work' });
    const after = (await client.DescribeCmqQueueDetail({ QueueName: 'work' })).QueueDescribe;
    expect([after?.ActiveMsgNum, after?.InactiveMsgNum, after?.DelayMsgNum]).toEqual([0, 0, 0]);

    await client.ModifyCmqQueueAttribute({ QueueName: 'work', VisibilityTimeout: 120, Trace: true });
    expect(cmq.getQueueAttributes('work').visibilityTimeout).toBe(120);
    expect((await client.DescribeCmqQueueDetail({ QueueName: 'work' })).QueueDescribe?.Trace).toBe(true);

    expect(
      (await rejection(client.SendCmqMsg({ QueueName: 'nope', MsgContent: 'x', DelaySeconds: 0 }))).code,
    ).toBe('ResourceNotFound');
    await client.DeleteCmqQueue({ QueueName: 'work' });
    expect(() => cmq.getQueueAttributes('work')).toThrow();
    expect((await rejection(client.DeleteCmqQueue({ QueueName: 'work' }))).code).toBe('ResourceNotFound');
  });

  it('RewindCmqQueue makes consumed messages receivable again (StartConsumeTime in seconds)', async () => {
    await client.CreateCmqQueue({ QueueName: 'rewindable', RewindSeconds: 3600 });
    const start = Math.floor(Date.now() / 1000) - 5;
    await client.SendCmqMsg({ QueueName: 'rewindable', MsgContent: 'once', DelaySeconds: 0 });
    const [m] = await cmq.receiveMessages('rewindable', { waitSeconds: 0 });
    cmq.deleteMessage('rewindable', m?.receiptHandle ?? '');
    expect(await cmq.receiveMessages('rewindable', { waitSeconds: 0 })).toEqual([]);
    await client.RewindCmqQueue({ QueueName: 'rewindable', StartConsumeTime: start });
    const again = await cmq.receiveMessages('rewindable', { waitSeconds: 0 });
    expect(again.map((x) => x.msgBody)).toEqual(['once']);
    await client.CreateCmqQueue({ QueueName: 'no-rewind' });
    expect(
      (await rejection(client.RewindCmqQueue({ QueueName: 'no-rewind', StartConsumeTime: start }))).code,
    ).toBe('FailedOperation');
  });
});

describe('CMQ topics and subscriptions over the API', () => {
  it('topic lifecycle, tag-filtered queue subscription, publish, detail queries', async () => {
    const created = await client.CreateCmqTopic({
      TopicName: 'events',
      MsgRetentionSeconds: 3600,
      Trace: true,
    });
    expect(created.TopicId).toMatch(/\S/);
    expect(cmq.getTopicAttributes('events').topicId).toBe(created.TopicId);
    await client.CreateCmqQueue({ QueueName: 'event-sink' });
    const sub = await client.CreateCmqSubscribe({
      TopicName: 'events',
      SubscriptionName: 'to-sink',
      Protocol: 'queue',
      Endpoint: 'event-sink',
      FilterTag: ['red'],
      NotifyContentFormat: 'SIMPLIFIED',
    });
    expect(sub.SubscriptionId).toMatch(/\S/);

    const published = await client.PublishCmqMsg({
      TopicName: 'events',
      MsgContent: 'red-1',
      MsgTag: ['red', 'x'],
    });
    expect(published.Result).toBe(true);
    expect(published.MsgId).toMatch(/\S/);
    expect(
      (await rejection(client.PublishCmqMsg({ TopicName: 'events', MsgContent: 'blue-1', MsgTag: ['blue'] })))
        .code,
    ).toBe('FailedOperation');
    expect(
      (await cmq.receiveMessages('event-sink', { max: 16, waitSeconds: 0 })).map((m) => m.msgBody),
    ).toEqual(['red-1']);

    const topic = (await client.DescribeCmqTopicDetail({ TopicName: 'events' })).TopicDescribe;
    expect(topic).toMatchObject({
      TopicId: created.TopicId,
      TopicName: 'events',
      MsgRetentionSeconds: 3600,
      FilterType: 1,
      Trace: true,
      SubscriptionCount: 1,
      BrokerType: 0,
    });
    await client.ModifyCmqTopicAttribute({ TopicName: 'events', MaxMsgSize: 4096, Trace: false });
    expect(cmq.getTopicAttributes('events').maxMsgSize).toBe(4096);
    const list = await client.DescribeCmqTopics({ TopicName: 'even' });
    expect(list.TotalCount).toBe(1);
    expect(list.TopicList?.[0]).toMatchObject({ TopicName: 'events', MaxMsgSize: 4096, Trace: false });

    const byTopic = await client.DescribeCmqSubscriptionDetail({ TopicName: 'events' });
    expect(byTopic.TotalCount).toBe(1);
    expect(byTopic.SubscriptionSet?.[0]).toMatchObject({
      SubscriptionName: 'to-sink',
      SubscriptionId: sub.SubscriptionId,
      Protocol: 'queue',
      Endpoint: 'event-sink',
      FilterTags: ['red'],
      NotifyContentFormat: 'SIMPLIFIED',
      TopicName: 'events',
      MsgCount: 1,
    });
    const byQueue = await client.DescribeCmqSubscriptionDetail({
      QueryType: 'queue',
      QueueName: 'event-sink',
    });
    expect(byQueue.SubscriptionSet?.map((s) => s.SubscriptionName)).toEqual(['to-sink']);

    await client.ModifyCmqSubscriptionAttribute({
      TopicName: 'events',
      SubscriptionName: 'to-sink',
      FilterTags: ['blue'],
    });
    expect(cmq.getSubscriptionAttributes('events', 'to-sink').filterTags).toEqual(['blue']);
    await client.PublishCmqMsg({ TopicName: 'events', MsgContent: 'blue-2', MsgTag: ['blue'] });
    expect(
      (await cmq.receiveMessages('event-sink', { max: 16, waitSeconds: 0 })).map((m) => m.msgBody),
    ).toEqual(['blue-2']);

    expect((await rejection(client.DeleteCmqTopic({ TopicName: 'events' }))).code).toBe('FailedOperation');
    await client.DeleteCmqSubscribe({ TopicName: 'events', SubscriptionName: 'to-sink' });
    expect(
      (await rejection(client.DeleteCmqSubscribe({ TopicName: 'events', SubscriptionName: 'to-sink' }))).code,
    ).toBe('ResourceNotFound.Subscription');
    await client.DeleteCmqTopic({ TopicName: 'events' });
    expect(() => cmq.getTopicAttributes('events')).toThrow();
    expect((await rejection(client.DescribeCmqTopicDetail({ TopicName: 'events' }))).code).toBe(
      'ResourceNotFound.Topic',
    );
  });

  it('routing-key topics take the route key in MsgTag and BindingKey on the subscription', async () => {
    await client.CreateCmqTopic({ TopicName: 'routed', FilterType: 2 });
    await client.CreateCmqQueue({ QueueName: 'eu-sink' });
    await client.CreateCmqSubscribe({
      TopicName: 'routed',
      SubscriptionName: 'eu',
      Protocol: 'queue',
      Endpoint: 'eu-sink',
      BindingKey: ['order.eu.*'],
    });
    await client.PublishCmqMsg({ TopicName: 'routed', MsgContent: 'to-eu', MsgTag: ['order.eu.paid'] });
    expect((await cmq.receiveMessages('eu-sink', { waitSeconds: 0 })).map((m) => m.msgBody)).toEqual([
      'to-eu',
    ]);
    await client.ModifyCmqSubscriptionAttribute({
      TopicName: 'routed',
      SubscriptionName: 'eu',
      BindingKey: ['order.#'],
    });
    expect(cmq.getSubscriptionAttributes('routed', 'eu').bindingKeys).toEqual(['order.#']);
  });

  it('the legacy HmacSHA1 dialect drives CMQ actions with flattened arrays', async () => {
    const cred = emu.credentials[0];
    if (!cred) throw new Error('no credentials');
    const legacy = makeClient(new URL(emu.endpoints.api).host, cred, { signMethod: 'HmacSHA1' });
    await legacy.CreateCmqQueue({
      QueueName: 'legacy-q',
      Tags: [{ TagKey: 'a', TagValue: 'b' }],
      Trace: false,
    });
    await legacy.SendCmqMsg({ QueueName: 'legacy-q', MsgContent: 'a&b=c d', DelaySeconds: 0 });
    const d = (await legacy.DescribeCmqQueues({ QueueNameList: ['legacy-q'] })).QueueList?.[0];
    expect(d).toMatchObject({
      QueueName: 'legacy-q',
      Tags: [{ TagKey: 'a', TagValue: 'b' }],
      ActiveMsgNum: 1,
    });
    expect((await cmq.receiveMessages('legacy-q', { waitSeconds: 0 }))[0]?.msgBody).toBe('a&b=c d');
    const err = await rejection(
      legacy.SendCmqMsg({ QueueName: 'legacy-q', MsgContent: 'x', DelaySeconds: -1 }),
    );
    expect(err).toBeInstanceOf(sdk.TencentCloudSDKHttpException);
    expect(err.code).toBe('InvalidParameterValue');
  });

  it('the emulator state endpoint includes the Pulsar side', async () => {
    const res = await fetch(`${emu.endpoints.api}/_emulator/state`, {
      headers: { authorization: `Bearer ${emu.adminToken}` },
    });
    const state = (await res.json()) as { api?: { pulsar?: { clusters?: { clusterId: string }[] } } };
    expect(state.api?.pulsar?.clusters?.[0]?.clusterId).toBe('pulsar-emulator');
  });
});

describe('mounted in startEmulator', () => {
  it('an injected fault reaches the SDK as a transient InternalError envelope, per action', async () => {
    emu.faults.setRules([{ protocol: 'api', action: 'SendCmqMsg', errorRate: 1 }]);
    try {
      await client.CreateCmqQueue({ QueueName: 'faulty' });
      const err = await rejection(
        client.SendCmqMsg({ QueueName: 'faulty', MsgContent: 'x', DelaySeconds: 0 }),
      );
      expect(err).toBeInstanceOf(sdk.TencentCloudSDKHttpException);
      expect(err.code).toBe('InternalError');
      expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(cmq.getQueueAttributes('faulty').activeMsgNum).toBe(0);
    } finally {
      emu.faults.setRules([]);
    }
    expect((await client.SendCmqMsg({ QueueName: 'faulty', MsgContent: 'x', DelaySeconds: 0 })).Result).toBe(
      true,
    );
  });

  it('Pulsar messaging works through the mounted handler on the default cluster', async () => {
    await client.CreateTopic({
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'default',
      TopicName: 'mounted',
      Partitions: 2,
    });
    await client.CreateSubscription({
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'default',
      TopicName: 'mounted',
      SubscriptionName: 's',
      IsIdempotent: true,
    });
    const sent = await client.SendMessages({
      Topic: 'pulsar-emulator/default/mounted',
      Payload: 'via start',
    });
    const got = await client.ReceiveMessage({
      Topic: 'pulsar-emulator/default/mounted',
      SubscriptionName: 's',
    });
    expect([got.MessageID, got.MessagePayload]).toEqual([sent.MessageId, 'via start']);
  });
});
