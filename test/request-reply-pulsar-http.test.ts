// Request-reply on TDMQ Pulsar over HTTP (through the emulator): a private reply topic per
// requesting process, created on the first request and deleted on close; the reply address (the
// full cluster/namespace/topic path) and the correlation id travel as envelope headers.

import { connect, type Message } from '@switchyard/core';
import '@switchyard/pulsar-http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLUSTER, type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

let env: PulsarHttpEnv;
beforeAll(async () => {
  env = await startPulsarHttpEnv();
});
afterAll(async () => {
  await env?.close();
});

async function replyTopics(): Promise<string[]> {
  const { TopicSets } = await env.sdk.DescribeTopics({
    ClusterId: CLUSTER,
    EnvironmentId: 'default',
    Limit: 20,
  });
  return (TopicSets ?? []).map((t) => t.TopicName ?? '').filter((name) => name.startsWith('sy-reply-'));
}

it('answers requests through a private reply topic that is deleted on close', {
  timeout: 60_000,
}, async () => {
  const requester = await connect(env.url({ mode: 'envelope' }));
  const responder = await connect(env.url({ mode: 'envelope' }));
  const consumer = await responder.consumer('rr-pulsar-svc');
  const running = consumer.run(async (m: Message) => {
    await responder.reply(m, { body: `pong:${m.text()}`, headers: { served: 'yes' } });
  });
  const producer = await requester.producer('rr-pulsar-svc');
  const replies = await Promise.all(['a', 'b'].map((body) => producer.request(body, { timeoutMs: 30_000 })));
  expect(replies.map((r) => r.text())).toEqual(['pong:a', 'pong:b']);
  expect(replies[0]!.headers.served).toBe('yes');
  expect(await replyTopics()).toHaveLength(1);
  await requester.close();
  expect(await replyTopics()).toHaveLength(0);
  await consumer.close();
  await running;
  await responder.close();
});

it('is unsupported in raw mode, which has nowhere to carry the reply address', async () => {
  const requester = await connect(env.url({ mode: 'raw' }));
  const producer = await requester.producer('rr-pulsar-raw');
  await expect(producer.request('x')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  await requester.close();
});
