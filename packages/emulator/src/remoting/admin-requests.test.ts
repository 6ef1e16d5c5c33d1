// What the admin tools (switchyard list/stats/peek) ask of the Remoting server: the name server's
// topic list, open as on Apache, and a pull without COMMIT_OFFSET or SUSPEND, which reads from a
// group's committed offset and leaves that offset and the messages as they were.

import { PullSysFlag, RequestCode, ResponseCode, request } from '@switchyard/rocketmq-remoting';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RawRemotingClient } from '../../test-kit/remoting-client.js';
import { RocketMqEngine } from '../rocketmq/engine.js';
import { type RemotingServer, startRemotingServer } from './server.js';

const AK = 'admin-token';
const SK = 'admin-role';
const TOPIC = 'admin-topic';
const GROUP = 'admin-group';

let engine: RocketMqEngine;
let server: RemotingServer;
const clients: RawRemotingClient[] = [];

beforeEach(async () => {
  engine = new RocketMqEngine({ autoCreate: false });
  server = await startRemotingServer({ engine, credentials: [{ secretId: AK, secretKey: SK }] });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
  engine.close();
});

async function client(signed: boolean) {
  const c = await RawRemotingClient.connect(
    server.endpoint,
    signed ? { accessKey: AK, secretKey: SK } : undefined,
  );
  clients.push(c);
  return c;
}

describe('Remoting admin requests', () => {
  it('GET_ALL_TOPIC_LIST_FROM_NAMESERVER names every topic in a TopicList body, without a key', async () => {
    engine.createTopic(TOPIC, { type: 'MIXED', queues: 2 });
    engine.createTopic(`%DLQ%${GROUP}`, { type: 'MIXED', queues: 1 });
    const reply = await (await client(false)).invoke(
      request(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, {}),
    );
    expect(reply.code).toBe(ResponseCode.SUCCESS);
    const body = JSON.parse(reply.body!.toString()) as { topicList: string[] };
    expect(body.topicList.sort()).toEqual([`%DLQ%${GROUP}`, TOPIC].sort());
  });

  it('a pull without COMMIT_OFFSET reads from the committed offset and changes nothing', async () => {
    engine.createTopic(TOPIC, { type: 'MIXED', queues: 1 });
    engine.createGroup(GROUP);
    for (const body of ['a', 'b', 'c'])
      engine.append(TOPIC, { messageId: `id-${body}`, type: 'NORMAL', body: Buffer.from(body), queueId: 0 });
    engine.commitConsumerOffset(GROUP, TOPIC, 0, 1);
    const c = await client(true);
    const peek = () =>
      c.invoke(
        request(RequestCode.PULL_MESSAGE, {
          consumerGroup: GROUP,
          topic: TOPIC,
          queueId: 0,
          queueOffset: 1,
          maxMsgNums: 32,
          sysFlag: PullSysFlag.SUBSCRIPTION,
          // Ignored without the COMMIT_OFFSET flag, as PullMessageProcessor does.
          commitOffset: 3,
          suspendTimeoutMillis: 0,
          subVersion: 0,
          subscription: '*',
          expressionType: 'TAG',
        }),
      );
    const first = await peek();
    expect(first.code).toBe(ResponseCode.SUCCESS);
    expect(first.extFields.nextBeginOffset).toBe('3');
    expect(engine.consumerOffset(GROUP, TOPIC, 0)).toBe(1);
    const again = await peek();
    expect(again.body).toEqual(first.body);
    const offset = await c.invoke(
      request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: GROUP, topic: TOPIC, queueId: 0 }),
    );
    expect(offset.extFields.offset).toBe('1');
  });
});
