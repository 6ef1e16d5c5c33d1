// The Remoting server over a real socket, request by request: Apache's codes and remarks for
// routes, sends, pulls (offset rules, tag filters, long polling), offsets, send-back to retry and
// DLQ topics, group membership and its notifications, ACL, faults and bad frames.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  decodeRouteData,
  decodeStoredMessages,
  encodeBatchBody,
  encodeProperties,
  offsetMsgId,
  PullSysFlag,
  RequestCode,
  ResponseCode,
  request,
  tagsHashCode,
} from '@switchyard/rocketmq-remoting';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawRemotingClient } from '../../test-kit/remoting-client.js';
import { Faults } from '../faults/injector.js';
import { RocketMqEngine } from '../rocketmq/engine.js';
import { startEmulator } from '../start.js';
import { bodyCrc } from './consume.js';
import { type RemotingServer, startRemotingServer } from './server.js';

const AK = 'rocketmq-demo-token';
const SK = 'demo-role';
const TOPIC = 'rocketmq-demo|ns1%TopicTest';
const GROUP = 'rocketmq-demo|ns1%cg';

let engine: RocketMqEngine;
let faults: Faults;
let server: RemotingServer;
const clients: RawRemotingClient[] = [];

beforeEach(async () => {
  engine = new RocketMqEngine({ autoCreate: false });
  faults = new Faults();
  server = await startRemotingServer({
    engine,
    credentials: [{ secretId: AK, secretKey: SK }],
    faults,
    // Short delay levels: retries and delayed messages arrive within the test.
    delayLevelsMs: Array.from({ length: 18 }, () => 30),
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
  engine.close();
});

async function client(
  credentials: { accessKey: string; secretKey: string } | null = { accessKey: AK, secretKey: SK },
) {
  const c = await RawRemotingClient.connect(server.endpoint, credentials ?? undefined);
  clients.push(c);
  return c;
}

function sendV2(
  topic: string,
  body: string,
  props: Record<string, string> = {},
  extra: Record<string, string | number> = {},
) {
  return request(
    RequestCode.SEND_MESSAGE_V2,
    {
      a: 'pg',
      b: topic,
      c: 'TBW102',
      d: 4,
      e: 0,
      f: 0,
      g: 1_700_000_000_000,
      h: 0,
      i: encodeProperties(props),
      j: 0,
      k: false,
      ...extra,
    },
    Buffer.from(body),
  );
}

interface PullOptions {
  readonly queueId?: number;
  readonly offset?: number;
  readonly subscription?: string;
  readonly suspendMs?: number;
  readonly commitOffset?: number;
  readonly group?: string;
}

function pull(topic: string, o: PullOptions = {}) {
  let sysFlag = 0;
  if (o.subscription !== undefined) sysFlag |= PullSysFlag.SUBSCRIPTION;
  if (o.suspendMs !== undefined) sysFlag |= PullSysFlag.SUSPEND;
  if (o.commitOffset !== undefined) sysFlag |= PullSysFlag.COMMIT_OFFSET;
  return request(RequestCode.PULL_MESSAGE, {
    consumerGroup: o.group ?? GROUP,
    topic,
    queueId: o.queueId ?? 0,
    queueOffset: o.offset ?? 0,
    maxMsgNums: 32,
    sysFlag,
    commitOffset: o.commitOffset ?? 0,
    suspendTimeoutMillis: o.suspendMs ?? 0,
    subVersion: 0,
    ...(o.subscription !== undefined ? { subscription: o.subscription, expressionType: 'TAG' } : {}),
  });
}

function heartbeat(clientId: string, group: string, topics: Record<string, string>) {
  const subscriptionDataSet = Object.entries(topics).map(([topic, subString]) => ({
    topic,
    subString,
    tagsSet: subString === '*' ? [] : subString.split('||').map((t) => t.trim()),
    codeSet: subString === '*' ? [] : subString.split('||').map((t) => tagsHashCode(t.trim())),
    expressionType: 'TAG',
    subVersion: 1,
  }));
  const body = {
    clientID: clientId,
    consumerDataSet: [
      { groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', subscriptionDataSet },
    ],
    producerDataSet: [],
  };
  return request(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(body)));
}

function createTopic(name = TOPIC, queues = 1) {
  engine.createTopic(name, { type: 'MIXED', queues });
  engine.createGroup(GROUP);
}

describe('name server', () => {
  it('answers TOPIC_NOT_EXIST with the Apache remark for an unknown topic', async () => {
    const c = await client(null);
    const reply = await c.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }));
    expect(reply.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(reply.remark).toBe(
      `No topic route info in name server for the topic: ${TOPIC}\nSee http://rocketmq.apache.org/docs/faq/ for further details.`,
    );
  });

  it('routes a topic to this server as the single broker, with standard JSON keys', async () => {
    createTopic(TOPIC, 4);
    const c = await client(null);
    const reply = await c.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }));
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    expect(reply.body?.toString()).toContain(`"brokerAddrs":{"0":"${server.endpoint}"}`);
    const route = decodeRouteData(reply.body!);
    expect(route.queueDatas).toEqual([
      { brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
    ]);
    expect(route.brokerDatas[0]?.brokerAddrs).toEqual({ '0': server.endpoint });
  });

  it("routes an existing group's retry topic before its first heartbeat, and no other group's", async () => {
    createTopic();
    const c = await client(null);
    const retry = await c.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: `%RETRY%${GROUP}` }));
    expect(retry.code).toBe(ResponseCode.SUCCESS);
    expect(engine.getTopic(`%RETRY%${GROUP}`)?.queues).toBe(1);
    const stranger = await c.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: '%RETRY%nobody' }));
    expect(stranger.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  it('creates an unknown topic on lookup when the emulator auto-creates', async () => {
    engine.autoCreate = true;
    const c = await client(null);
    const reply = await c.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }));
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    expect(engine.getTopic(TOPIC)?.queues).toBe(4);
  });
});

describe('send and pull', () => {
  it('stores a V2 send in the shared store and pulls it back as a commit-log record', async () => {
    createTopic();
    const c = await client();
    const sent = await c.invoke(
      sendV2(TOPIC, 'Hello RocketMQ', {
        TAGS: 'TagA',
        KEYS: 'order-1 order-2',
        UNIQ_KEY: 'AC11000118B46D1B7C5A47B760000000',
        WAIT: 'true',
        color: 'red',
      }),
    );
    expect(sent.code).toBe(ResponseCode.SUCCESS);
    const stored = engine.messages(TOPIC)[0]!;
    expect(stored).toMatchObject({
      messageId: 'AC11000118B46D1B7C5A47B760000000',
      tag: 'TagA',
      keys: ['order-1', 'order-2'],
      properties: { color: 'red' },
    });
    expect(sent.extFields).toEqual({
      msgId: offsetMsgId(server.endpoint, stored.seq),
      queueId: '0',
      queueOffset: '0',
      MSG_REGION: 'DefaultRegion',
      TRACE_ON: 'true',
    });

    const pulled = await c.invoke(pull(TOPIC, { subscription: 'TagA || TagB' }));
    expect(pulled.code).toBe(ResponseCode.SUCCESS);
    expect(pulled.extFields).toMatchObject({ nextBeginOffset: '1', minOffset: '0', maxOffset: '1' });
    const [record] = decodeStoredMessages(pulled.body!);
    expect(record).toMatchObject({
      topic: TOPIC,
      queueId: 0,
      queueOffset: 0,
      commitLogOffset: stored.seq,
      bornTimestamp: 1_700_000_000_000,
      storeHost: server.endpoint,
      reconsumeTimes: 0,
      msgId: sent.extFields.msgId,
    });
    expect(record?.body.toString()).toBe('Hello RocketMQ');
    expect(record?.properties).toMatchObject({
      TAGS: 'TagA',
      KEYS: 'order-1 order-2',
      UNIQ_KEY: 'AC11000118B46D1B7C5A47B760000000',
      CLUSTER: 'DefaultCluster',
      color: 'red',
    });
  });

  it('serves a pull of large messages as their records in one body, each with its body CRC', async () => {
    createTopic();
    const c = await client();
    const bodies = [1, 2, 3].map((i) => Buffer.alloc(70_000, i).toString('latin1'));
    for (const body of bodies) expect((await c.invoke(sendV2(TOPIC, body))).code).toBe(ResponseCode.SUCCESS);
    for (const round of [1, 2]) {
      const pulled = await c.invoke(pull(TOPIC, { subscription: '*' }));
      expect(pulled.code, `pull ${round}`).toBe(ResponseCode.SUCCESS);
      const body = pulled.body!;
      const records = decodeStoredMessages(body);
      expect(records.map((r) => r.body.toString('latin1'))).toEqual(bodies);
      let at = 0;
      for (const r of records) {
        expect(body.readInt32BE(at + 8)).toBe(crc32(r.body) & 0x7fffffff);
        at += body.readInt32BE(at);
      }
    }
  });

  it("computes a stored body's CRC once, however often it is pulled", () => {
    const body = Buffer.from('stored once');
    const first = bodyCrc(body);
    expect(first).toBe(crc32(body));
    // A stored body never changes; were the CRC computed again, this would show it.
    body.write('STORED');
    expect(bodyCrc(body)).toBe(first);
    expect(bodyCrc(Buffer.from('stored once'))).toBe(first);
  });

  it('answers the offset rules of getMessage: not found at max, moved past it, retry-immediately when filtered', async () => {
    createTopic();
    const c = await client();
    expect((await c.invoke(pull(TOPIC, { subscription: '*' }))).code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect((await c.invoke(pull(TOPIC, { subscription: '*', offset: 3 }))).code).toBe(
      ResponseCode.PULL_OFFSET_MOVED,
    );
    await c.invoke(sendV2(TOPIC, 'b', { TAGS: 'TagB' }));
    await c.invoke(sendV2(TOPIC, 'untagged'));
    const filtered = await c.invoke(pull(TOPIC, { subscription: 'TagA' }));
    expect(filtered.code).toBe(ResponseCode.PULL_RETRY_IMMEDIATELY);
    expect(filtered.extFields.nextBeginOffset).toBe('2');
    const atMax = await c.invoke(pull(TOPIC, { subscription: '*', offset: 2 }));
    expect(atMax.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(atMax.extFields.nextBeginOffset).toBe('2');
    const past = await c.invoke(pull(TOPIC, { subscription: '*', offset: 9 }));
    expect(past.code).toBe(ResponseCode.PULL_OFFSET_MOVED);
    expect(past.extFields.nextBeginOffset).toBe('0');
  });

  it('holds a long poll until a message arrives, then answers with it', async () => {
    createTopic();
    const consumer = await client();
    const producer = await client();
    const held = consumer.invoke(pull(TOPIC, { subscription: '*', suspendMs: 20_000 }), 25_000);
    // The poll is parked once it waits on the store.
    while (engine.pendingPolls === 0) await new Promise((r) => setImmediate(r));
    await producer.invoke(sendV2(TOPIC, 'wake up'));
    const reply = await held;
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    expect(decodeStoredMessages(reply.body!)[0]?.body.toString()).toBe('wake up');
  });

  it('ends a long poll with PULL_NOT_FOUND when the hold runs out', async () => {
    createTopic();
    const c = await client();
    const reply = await c.invoke(pull(TOPIC, { subscription: '*', suspendMs: 50 }));
    expect(reply.code).toBe(ResponseCode.PULL_NOT_FOUND);
    expect(reply.extFields.nextBeginOffset).toBe('0');
  });

  it('spreads gRPC-side appends over the queues and serves them by queue offset', async () => {
    createTopic(TOPIC, 2);
    for (const body of ['m0', 'm1', 'm2'])
      engine.append(TOPIC, { messageId: body, type: 'NORMAL', body: Buffer.from(body), tag: 'T' });
    const c = await client();
    const q0 = decodeStoredMessages((await c.invoke(pull(TOPIC, { subscription: '*', queueId: 0 }))).body!);
    const q1 = decodeStoredMessages((await c.invoke(pull(TOPIC, { subscription: '*', queueId: 1 }))).body!);
    expect(q0.map((m) => [m.body.toString(), m.queueOffset, m.properties.UNIQ_KEY])).toEqual([
      ['m0', 0, 'm0'],
      ['m2', 1, 'm2'],
    ]);
    expect(q1.map((m) => m.body.toString())).toEqual(['m1']);
  });

  it('stores a batch whole, with each message its own properties', async () => {
    createTopic();
    const c = await client();
    const body = encodeBatchBody([
      { flag: 0, body: Buffer.from('one'), properties: { UNIQ_KEY: 'ID1', TAGS: 'A' } },
      { flag: 0, body: Buffer.from('two'), properties: { UNIQ_KEY: 'ID2', KEYS: 'k2' } },
    ]);
    const reply = await c.invoke({
      ...sendV2(TOPIC, '', { WAIT: 'true' }, { m: 'true' }),
      code: RequestCode.SEND_BATCH_MESSAGE,
      body,
    });
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    expect(reply.extFields.msgId?.split(',')).toHaveLength(2);
    expect(engine.messages(TOPIC).map((m) => [m.messageId, m.body.toString(), m.tag, m.keys])).toEqual([
      ['ID1', 'one', 'A', []],
      ['ID2', 'two', undefined, ['k2']],
    ]);
    const delayed = encodeBatchBody([{ flag: 0, body: Buffer.from('x'), properties: { DELAY: '2' } }]);
    const refused = await c.invoke({
      ...sendV2(TOPIC, ''),
      code: RequestCode.SEND_BATCH_MESSAGE,
      body: delayed,
    });
    expect(refused.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(engine.messages(TOPIC)).toHaveLength(2);
  });

  it('refuses a send to a missing topic, a bad queue id and an oversized body with the broker codes', async () => {
    createTopic();
    const c = await client();
    const missing = await c.invoke(sendV2('rocketmq-demo|ns1%Nope', 'x'));
    expect(missing.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(missing.remark).toContain('topic[rocketmq-demo|ns1%Nope] not exist, apply first please!');
    const badQueue = await c.invoke(sendV2(TOPIC, 'x', {}, { e: 5 }));
    expect(badQueue.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(badQueue.remark).toContain('request queueId[5] is illegal');
    const big = await c.invoke(sendV2(TOPIC, 'x'.repeat(4 * 1024 * 1024 + 1)));
    expect(big.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(big.remark).toBe('the message body size over max value, MAX: 4194304');
    expect(engine.messages(TOPIC)).toHaveLength(0);
  });

  it('holds a DELAY-level message back until its level has passed', async () => {
    createTopic();
    const c = await client();
    await c.invoke(sendV2(TOPIC, 'later', { DELAY: '1' }));
    expect(engine.messages(TOPIC)[0]?.deliveryTimestamp).toBeDefined();
    // The long poll wakes when the message becomes visible, with no store change to announce it.
    const reply = await c.invoke(pull(TOPIC, { subscription: '*', suspendMs: 20_000 }), 25_000);
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    const [record] = decodeStoredMessages(reply.body!);
    expect(record?.properties).toMatchObject({ REAL_TOPIC: TOPIC, REAL_QID: '0' });
    expect(record?.properties.DELAY).toBeUndefined();
  });
});

describe('offsets', () => {
  it('starts a new group at 0, stores oneway commits and pull-piggybacked ones', async () => {
    createTopic();
    const c = await client();
    const header = { consumerGroup: GROUP, topic: TOPIC, queueId: 0 };
    const first = await c.invoke(request(RequestCode.QUERY_CONSUMER_OFFSET, header));
    expect([first.code, first.extFields.offset]).toEqual([ResponseCode.SUCCESS, '0']);
    c.oneway(request(RequestCode.UPDATE_CONSUMER_OFFSET, { ...header, commitOffset: 7 }));
    // Requests on one connection are served in order: the query sees the oneway commit.
    expect((await c.invoke(request(RequestCode.QUERY_CONSUMER_OFFSET, header))).extFields.offset).toBe('7');
    await c.invoke(pull(TOPIC, { subscription: '*', commitOffset: 9 }));
    expect((await c.invoke(request(RequestCode.QUERY_CONSUMER_OFFSET, header))).extFields.offset).toBe('9');
    // A negative commit (ali-ons persists -1 for a queue it never consumed) reads as none.
    await c.invoke(request(RequestCode.UPDATE_CONSUMER_OFFSET, { ...header, commitOffset: -1 }));
    expect((await c.invoke(request(RequestCode.QUERY_CONSUMER_OFFSET, header))).extFields.offset).toBe('0');
  });

  it('answers max, min and by-timestamp offsets per queue', async () => {
    createTopic();
    const c = await client();
    await c.invoke(sendV2(TOPIC, 'a'));
    await c.invoke(sendV2(TOPIC, 'b'));
    const max = await c.invoke(request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }));
    const min = await c.invoke(request(RequestCode.GET_MIN_OFFSET, { topic: TOPIC, queueId: 0 }));
    const stamp = engine.messages(TOPIC)[1]!.storeTimestamp;
    const search = await c.invoke(
      request(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: TOPIC, queueId: 0, timestamp: stamp + 1 }),
    );
    expect([max.extFields.offset, min.extFields.offset]).toEqual(['2', '0']);
    expect(['0', '1']).toContain(search.extFields.offset);
  });
});

describe('retry and dead letters', () => {
  async function sendAndPull(c: RawRemotingClient) {
    await c.invoke(sendV2(TOPIC, 'poison', { TAGS: 'TagA', UNIQ_KEY: 'U1' }));
    const [record] = decodeStoredMessages((await c.invoke(pull(TOPIC, { subscription: '*' }))).body!);
    return record!;
  }

  it('re-stores a sent-back message in %RETRY%<group> with one more reconsume time', async () => {
    createTopic();
    const c = await client();
    const record = await sendAndPull(c);
    const back = await c.invoke(
      request(RequestCode.CONSUMER_SEND_MSG_BACK, {
        offset: record.commitLogOffset,
        group: GROUP,
        delayLevel: 0,
        originMsgId: 'U1',
        originTopic: TOPIC,
        maxReconsumeTimes: 16,
      }),
    );
    expect(back.code).toBe(ResponseCode.SUCCESS);
    const retryTopic = `%RETRY%${GROUP}`;
    const reply = await c.invoke(pull(retryTopic, { subscription: '*', suspendMs: 20_000 }), 25_000);
    const [retried] = decodeStoredMessages(reply.body!);
    expect(retried).toMatchObject({ topic: retryTopic, reconsumeTimes: 1 });
    expect(retried?.properties).toMatchObject({
      RETRY_TOPIC: TOPIC,
      ORIGIN_MESSAGE_ID: 'U1',
      UNIQ_KEY: 'U1',
      TAGS: 'TagA',
    });
  });

  it('dead-letters a message past maxReconsumeTimes, or at once for delay level -1', async () => {
    createTopic();
    const c = await client();
    const record = await sendAndPull(c);
    const header = { offset: record.commitLogOffset, group: GROUP, originTopic: TOPIC };
    await c.invoke(request(RequestCode.CONSUMER_SEND_MSG_BACK, { ...header, delayLevel: -1 }));
    const dlq = `%DLQ%${GROUP}`;
    expect(engine.messages(dlq).map((m) => [m.body.toString(), m.reconsumeTimes])).toEqual([['poison', 1]]);
    // A retry copy that used up maxReconsumeTimes=1 goes to the DLQ too.
    await c.invoke(
      request(RequestCode.CONSUMER_SEND_MSG_BACK, { ...header, delayLevel: 0, maxReconsumeTimes: 1 }),
    );
    const retryTopic = `%RETRY%${GROUP}`;
    const [retried] = decodeStoredMessages(
      (await c.invoke(pull(retryTopic, { subscription: '*', suspendMs: 20_000 }), 25_000)).body!,
    );
    await c.invoke(
      request(RequestCode.CONSUMER_SEND_MSG_BACK, {
        ...header,
        offset: retried!.commitLogOffset,
        delayLevel: 0,
        maxReconsumeTimes: 1,
      }),
    );
    expect(engine.messages(dlq)).toHaveLength(2);
    expect(engine.messages(dlq)[1]?.deadLetter).toEqual({ topic: TOPIC, messageId: 'U1' });
  });

  it('refuses a send-back for an unknown commit-log offset', async () => {
    createTopic();
    const c = await client();
    const reply = await c.invoke(
      request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset: 999, group: GROUP, delayLevel: 0 }),
    );
    expect(reply.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(reply.remark).toBe('look message by offset failed, 999');
  });
});

describe('consumer groups', () => {
  it('tells members when another joins and leaves, and lists the group', async () => {
    createTopic();
    const a = await client();
    const b = await client();
    expect(
      (await a.invoke(request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }))).remark,
    ).toBe(`no consumer for this group, ${GROUP}`);
    await a.invoke(heartbeat('10.0.0.1@a', GROUP, { [TOPIC]: '*' }));
    await a.nextReceived((cmd) => cmd.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED);
    await b.invoke(heartbeat('10.0.0.2@b', GROUP, { [TOPIC]: '*' }));
    const notice = await a.nextReceived((cmd) => cmd.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED);
    expect(notice.extFields).toEqual({ consumerGroup: GROUP });
    expect(notice.flag & 2).toBe(2);
    expect(server.inspect()).toEqual({
      connections: 2,
      groups: { [GROUP]: { consumers: ['10.0.0.1@a', '10.0.0.2@b'], subscriptions: { [TOPIC]: '*' } } },
    });
    const list = await a.invoke(request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }));
    expect(JSON.parse(list.body!.toString()).consumerIdList.sort()).toEqual(['10.0.0.1@a', '10.0.0.2@b']);
    expect(engine.getTopic(`%RETRY%${GROUP}`)?.queues).toBe(1);
    b.close();
    await a.nextReceived((cmd) => cmd.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED);
    const after = await a.invoke(request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }));
    expect(JSON.parse(after.body!.toString()).consumerIdList).toEqual(['10.0.0.1@a']);
    await a.invoke(request(RequestCode.UNREGISTER_CLIENT, { clientID: '10.0.0.1@a', consumerGroup: GROUP }));
    expect(
      (await a.invoke(request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }))).code,
    ).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('filters a pull without a subscription by the heartbeat one, and refuses it with none', async () => {
    createTopic();
    const c = await client();
    expect((await c.invoke(pull(TOPIC))).code).toBe(ResponseCode.SUBSCRIPTION_NOT_EXIST);
    await c.invoke(heartbeat('10.0.0.1@a', GROUP, { [TOPIC]: 'TagB' }));
    await c.invoke(sendV2(TOPIC, 'a', { TAGS: 'TagA' }));
    await c.invoke(sendV2(TOPIC, 'b', { TAGS: 'TagB' }));
    const reply = await c.invoke(pull(TOPIC));
    expect(decodeStoredMessages(reply.body!).map((m) => m.body.toString())).toEqual(['b']);
  });

  it('lets go of the engine when it closes, so a restarted server on the same engine is the only one it holds', async () => {
    // The queue index listens for dropped topics; a closed server's index stayed registered,
    // and with it every message it had indexed, for as long as the engine lived.
    expect(engine.topicDropListeners).toBe(1);
    await server.close();
    expect(engine.topicDropListeners).toBe(0);
    server = await startRemotingServer({ engine, credentials: [{ secretId: AK, secretKey: SK }] });
    expect(engine.topicDropListeners).toBe(1);
  });

  it('closes a consumer connection that stays silent past the channel expiry, and drops it from its group', async () => {
    await server.close();
    server = await startRemotingServer({
      engine,
      credentials: [{ secretId: AK, secretKey: SK }],
      channelExpiredMs: 50,
    });
    createTopic();
    const c = await client();
    await c.invoke(heartbeat('10.0.0.1@a', GROUP, { [TOPIC]: '*' }));
    await c.closed;
    const other = await client();
    const list = await other.invoke(
      request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }),
    );
    expect(list.remark).toBe(`no consumer for this group, ${GROUP}`);
  });

  it('grants a queue lock to one client at a time', async () => {
    const a = await client();
    const b = await client();
    const mqSet = [{ topic: TOPIC, brokerName: 'broker-a', queueId: 0 }];
    const lock = (clientId: string) =>
      request(
        RequestCode.LOCK_BATCH_MQ,
        {},
        Buffer.from(JSON.stringify({ consumerGroup: GROUP, clientId, mqSet })),
      );
    expect(JSON.parse((await a.invoke(lock('a'))).body!.toString()).lockOKMQSet).toEqual(mqSet);
    expect(JSON.parse((await b.invoke(lock('b'))).body!.toString()).lockOKMQSet).toEqual([]);
    a.close();
    await a.closed;
    // The holder's connection is gone: its locks go with it.
    let granted: unknown[] = [];
    while (granted.length === 0)
      granted = JSON.parse((await b.invoke(lock('b'))).body!.toString()).lockOKMQSet;
    expect(granted).toEqual(mqSet);
  });
});

describe('ACL', () => {
  it('refuses a bad signature, an unknown key and an anonymous broker request with the AclException remark', async () => {
    createTopic();
    const wrong = await client({ accessKey: AK, secretKey: 'not-the-role' });
    const stranger = await client({ accessKey: 'who', secretKey: SK });
    const anonymous = await client(null);
    const bad = await wrong.invoke(sendV2(TOPIC, 'x'));
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toMatch(
      /^org\.apache\.rocketmq\.acl\.common\.AclException: Check signature failed for accessKey=rocketmq-demo-token, /,
    );
    expect(bad.remark).not.toContain('not-the-role');
    expect((await stranger.invoke(sendV2(TOPIC, 'x'))).remark).toContain('No acl config for who');
    expect((await anonymous.invoke(sendV2(TOPIC, 'x'))).remark).toContain('No accessKey is configured');
    // Route lookups need no key, as on the Apache name server.
    expect((await anonymous.invoke(request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }))).code).toBe(
      ResponseCode.SUCCESS,
    );
    expect(engine.messages(TOPIC)).toHaveLength(0);
  });

  it('accepts the ali-ons style with an extra signed OnsChannel field', async () => {
    createTopic();
    const c = await client();
    const cmd = sendV2(TOPIC, 'x');
    const reply = await c.invoke({ ...cmd, extFields: { ...cmd.extFields, OnsChannel: 'ALIYUN' } });
    expect(reply.code).toBe(ResponseCode.SUCCESS);
  });
});

describe('faults and bad input', () => {
  it('answers an injected error with SYSTEM_BUSY and stores nothing', async () => {
    createTopic();
    faults.setRule({ protocol: 'rocketmq', action: 'SEND_MESSAGE_V2', errorRate: 1 });
    const c = await client();
    const reply = await c.invoke(sendV2(TOPIC, 'x'));
    expect(reply.code).toBe(ResponseCode.SYSTEM_BUSY);
    expect(engine.messages(TOPIC)).toHaveLength(0);
    expect(faults.stats()).toEqual({ 'rocketmq:SEND_MESSAGE_V2:error': 1 });
  });

  it('drops the connection on an injected reset, and stores a send whose reply is lost', async () => {
    createTopic();
    const c = await client();
    faults.setRule({ protocol: 'rocketmq', action: 'SEND_MESSAGE_V2', lostReplyRate: 1 });
    let answered = false;
    const lost = c.invoke(sendV2(TOPIC, 'lost')).then(
      () => (answered = true),
      () => {},
    );
    // Served in order on one connection: once this reply is here, the send's would have been too.
    const max = await c.invoke(request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }));
    expect(max.extFields.offset).toBe('1');
    expect(answered).toBe(false);
    void lost;
    expect(engine.messages(TOPIC)).toHaveLength(1);
    faults.setRule({ protocol: 'rocketmq', action: 'PULL_MESSAGE', resetRate: 1 });
    void c.invoke(pull(TOPIC, { subscription: '*' })).catch(() => {});
    await c.closed;
  });

  it('cuts every connection on demand and drops their consumers from the groups', async () => {
    createTopic();
    const c = await client();
    await c.invoke(heartbeat('10.0.0.1@a', GROUP, { [TOPIC]: '*' }));
    expect(server.cutConnections()).toBe(1);
    await c.closed;
    const other = await client();
    expect(
      (await other.invoke(request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: GROUP }))).code,
    ).toBe(ResponseCode.SYSTEM_ERROR);
  });

  it('answers a ROCKETMQ binary-header request in the same serialization', async () => {
    createTopic();
    const c = await client();
    const reply = await c.invoke({ ...sendV2(TOPIC, 'binary'), serializeType: 'ROCKETMQ' });
    expect([reply.code, reply.serializeType]).toEqual([ResponseCode.SUCCESS, 'ROCKETMQ']);
    expect(engine.messages(TOPIC)[0]?.body.toString()).toBe('binary');
  });

  it('closes a connection that sends a corrupt frame, and answers an unknown code with 3', async () => {
    const c = await client();
    const unknown = await c.invoke(request(999, {}));
    expect([unknown.code, unknown.remark]).toEqual([
      ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
      ' request type 999 not supported',
    ]);
    c.writeRaw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    await c.closed;
    expect(c.destroyed).toBe(true);
  });
});

describe('state', () => {
  it('keeps messages, their queues and committed consumer offsets across a restart with --state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'remoting-state-'));
    const statePath = join(dir, 'state.json');
    const credentials = [{ secretId: AK, secretKey: SK }];
    try {
      const first = await startEmulator({ statePath, credentials });
      first.engines.rocketmq.createTopic(TOPIC, { type: 'MIXED', queues: 2 });
      const c1 = await RawRemotingClient.connect(first.endpoints.remoting, { accessKey: AK, secretKey: SK });
      await c1.invoke(sendV2(TOPIC, 'kept', {}, { e: 1 }));
      const header = { consumerGroup: GROUP, topic: TOPIC, queueId: 1 };
      // Oneway, as clients commit; the next reply on the connection comes after it was journaled.
      c1.oneway(request(RequestCode.UPDATE_CONSUMER_OFFSET, { ...header, commitOffset: 1 }));
      await c1.invoke(request(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 1 }));
      c1.close();
      await first.stop();

      const second = await startEmulator({ statePath, credentials });
      try {
        const c2 = await RawRemotingClient.connect(second.endpoints.remoting, {
          accessKey: AK,
          secretKey: SK,
        });
        clients.push(c2);
        expect((await c2.invoke(request(RequestCode.QUERY_CONSUMER_OFFSET, header))).extFields.offset).toBe(
          '1',
        );
        const pulled = await c2.invoke(pull(TOPIC, { subscription: '*', queueId: 1 }));
        expect(decodeStoredMessages(pulled.body!).map((m) => [m.body.toString(), m.queueOffset])).toEqual([
          ['kept', 0],
        ]);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
