// Handler plumbing beyond single actions: --state round trips, the oversized-body reply, the
// reply to a client that leaves during a long poll, and trace-id echo.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { CRED, parsedRequest, parseReply, signedRequest } from '../../test-kit/tcapi.js';
import { CmqEngine } from '../cmq/engine.js';
import { createTcApiHandler, type TcApiHandler } from './handler.js';

const engines: CmqEngine[] = [];
afterEach(() => {
  for (const e of engines.splice(0)) e.close();
});

function make(): { handler: TcApiHandler; cmq: CmqEngine } {
  const clock = new ManualClock();
  const cmq = new CmqEngine({ clock });
  engines.push(cmq);
  return {
    handler: createTcApiHandler({ credentials: [CRED], cmq, clock, pulsar: { receiveWaitMs: 2_000 } }),
    cmq,
  };
}

async function call(h: TcApiHandler, action: string, params: unknown) {
  return parseReply((await h.handle(signedRequest(action, params))).body).Response;
}

describe('handler', () => {
  it('snapshot/restore carries Pulsar state and API-only CMQ attributes', async () => {
    const a = make();
    await call(a.handler, 'CreateEnvironment', {
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'keep',
      MsgTTL: 600,
    });
    await call(a.handler, 'CreateTopic', {
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'keep',
      TopicName: 't',
      Partitions: 2,
    });
    await call(a.handler, 'CreateSubscription', {
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'keep',
      TopicName: 't',
      SubscriptionName: 's',
      IsIdempotent: true,
    });
    await call(a.handler, 'SendMessages', { Topic: 'pulsar-emulator/keep/t', Payload: 'persisted' });
    await call(a.handler, 'CreateCmqQueue', {
      QueueName: 'q',
      Tags: [{ TagKey: 'k', TagValue: 'v' }],
      Trace: true,
    });

    const doc = JSON.parse(JSON.stringify({ api: a.handler.snapshot(), cmq: a.cmq.snapshot() }));
    const b = make();
    b.cmq.restore(doc.cmq);
    b.handler.restore(doc.api);
    const got = await call(b.handler, 'ReceiveMessage', {
      Topic: 'pulsar-emulator/keep/t',
      SubscriptionName: 's',
    });
    expect(got.MessagePayload).toBe('persisted');
    const q = (await call(b.handler, 'DescribeCmqQueueDetail', { QueueName: 'q' })).QueueDescribe as Record<
      string,
      unknown
    >;
    expect([q.Tags, q.Trace]).toEqual([[{ TagKey: 'k', TagValue: 'v' }], true]);
    expect(() => b.handler.restore({})).toThrow();
  });

  it('a client leaving during a long poll gets a reply, and its messages go back to the subscription', async () => {
    const { handler } = make();
    await call(handler, 'CreateTopic', {
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'default',
      TopicName: 'lp',
      Partitions: 2,
    });
    await call(handler, 'CreateSubscription', {
      ClusterId: 'pulsar-emulator',
      EnvironmentId: 'default',
      TopicName: 'lp',
      SubscriptionName: 's',
      IsIdempotent: true,
    });
    await call(handler, 'SendMessages', { Topic: 'lp', Payload: 'x' });
    const abort = new AbortController();
    const pending = handler.handle(
      signedRequest(
        'ReceiveMessage',
        { Topic: 'lp', SubscriptionName: 's', MaxNumMessages: 5, Timeout: 10_000 },
        { signal: abort.signal },
      ),
    );
    // Abandon it once it is waiting for more, holding 'x'.
    await vi.waitFor(() => expect(handler.pulsar.pendingPolls).toBe(1), { timeout: 10_000 });
    abort.abort();
    expect(parseReply((await pending).body).Response.Error?.Code).toBe('FailedOperation.ReceiveError');
    const again = await call(handler, 'ReceiveMessage', { Topic: 'lp', SubscriptionName: 's' });
    expect(again.MessagePayload).toBe('x');
  });

  it('oversized bodies, injected errors and trace ids use the API envelope', async () => {
    const { handler } = make();
    const req = parsedRequest({ headers: { 'X-TC-TraceId': 'trace-1', 'X-TC-Action': 'SendMessages' } });
    const big = handler.oversizedReply?.(req);
    expect(big?.status).toBe(200);
    expect(parseReply(big?.body ?? '').Response.Error?.Code).toBe('RequestSizeLimitExceeded');
    expect(big?.headers?.['x-tc-traceid']).toBe('trace-1');
    const injected = handler.injectedError(req, 'SendMessages');
    expect(parseReply(injected.body).Response.Error?.Code).toBe('InternalError');
    expect(handler.actionOf(req)).toBe('SendMessages');
    expect(handler.actionOf(parsedRequest({ method: 'GET', query: 'Action=SendCmqMsg&x=1' }))).toBe(
      'SendCmqMsg',
    );
    expect(handler.protocol).toBe('api');
  });
});
