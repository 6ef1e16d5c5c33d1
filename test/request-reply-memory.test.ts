// Request-reply on the memory driver: two brokers on one store play two processes, so a request
// crosses the store as it would cross a network. What is checked is what the portable layer owns:
// correlation, the reply inbox's lifetime, timeouts as typed errors and late replies counted.

import { randomUUID } from 'node:crypto';
import {
  type Broker,
  type Consumer,
  connect,
  type MemoryStore,
  type Message,
  type SwitchyardError,
} from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';

const open: Broker[] = [];
async function pair(): Promise<{ requester: Broker; responder: Broker; store: MemoryStore }> {
  const url = `memory://rr-${randomUUID()}`;
  const requester = await connect(url);
  const responder = await connect(url);
  open.push(requester, responder);
  return { requester, responder, store: requester.unwrap<MemoryStore>() };
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

/** The next message, however long the consumer's polls take to bring it. */
async function receiveOne(consumer: Consumer): Promise<Message> {
  for (;;) {
    const [message] = await consumer.receive({ max: 1 });
    if (message !== undefined) return message;
  }
}

/** Resolves once `check` holds, looking again whenever the event loop turns. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('request-reply on memory', () => {
  it('resolves each request with its own reply, however the replies interleave', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.upper');
    // Replies in reverse order of arrival: correlation, not order, pairs them.
    const held: Message[] = [];
    const running = consumer.run(
      async (m) => {
        held.push(m);
        if (held.length === 3) {
          for (const r of held.reverse())
            await responder.reply(r, { body: r.text().toUpperCase(), headers: { by: 'upper' } });
        }
      },
      { concurrency: 3 },
    );
    const producer = await requester.producer('rr.upper');
    const replies = await Promise.all(
      ['a', 'b', 'c'].map((body) => producer.request(body, { timeoutMs: 20_000 })),
    );
    expect(replies.map((r) => r.text())).toEqual(['A', 'B', 'C']);
    expect(replies[0]!.headers.by).toBe('upper');
    expect(held.map((m) => m.headers['reply-to'])).toEqual(Array(3).fill(held[0]!.headers['reply-to']));
    expect(new Set(held.map((m) => m.headers['correlation-id'])).size).toBe(3);
    await consumer.close();
    await running;
  });

  it('times out with a retryable TIMEOUT, then drops and counts the late reply', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.slow');
    const producer = await requester.producer('rr.slow');
    // Held at once: the timeout can fire before the request is received on a loaded machine.
    const failed = producer.request('late', { timeoutMs: 200 }).catch((e: unknown) => e);
    const request = await receiveOne(consumer);
    const error = (await failed) as SwitchyardError;
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(producer.lateReplies).toBe(0);
    await responder.reply(request, 'too late');
    await request.ack();
    await until(() => producer.lateReplies === 1);
    expect(requester.unmatchedReplies).toBe(0);
  });

  it('rejects with the signal when the caller gives up, and the reply after it is late', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.abort');
    const producer = await requester.producer('rr.abort');
    const controller = new AbortController();
    const pending = producer.request('x', { signal: controller.signal, timeoutMs: 60_000 });
    const request = await receiveOne(consumer);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await responder.reply(request, 'y');
    await until(() => producer.lateReplies === 1);
  });

  it('counts a reply for no request of this process as unmatched, not late', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.stray');
    const producer = await requester.producer('rr.stray');
    const pending = producer.request('real', { timeoutMs: 20_000 });
    const request = await receiveOne(consumer);
    const forged = await responder.producer(request.headers['reply-to']!);
    await forged.send({ body: 'stray', headers: { 'correlation-id': 'not-ours' } });
    await until(() => requester.unmatchedReplies === 1);
    await responder.reply(request, 'ok');
    expect((await pending).text()).toBe('ok');
    expect(producer.lateReplies).toBe(0);
  });

  it('refuses to reply to a message that carries no reply address', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.plain');
    await (await requester.producer('rr.plain')).send('no reply wanted');
    const message = await receiveOne(consumer);
    await expect(responder.reply(message, 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('deletes its reply destination on close, and fails what still waits with CLOSED', async () => {
    const { requester, responder, store } = await pair();
    const consumer = await responder.consumer('rr.close');
    const producer = await requester.producer('rr.close');
    const pending = producer.request('never answered', { timeoutMs: 60_000 });
    const request = await receiveOne(consumer);
    const address = request.headers['reply-to']!;
    expect(store.hasTopic(address)).toBe(true);
    await requester.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    expect(store.hasTopic(address)).toBe(false);
  });
});

describe('request-reply while the responder closes', () => {
  it('a handler that close() drains still sends its reply', async () => {
    const { requester, responder } = await pair();
    const consumer = await responder.consumer('rr.drain');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => {};
    const handling = new Promise<void>((resolve) => (started = resolve));
    let handled: Message | undefined;
    const running = consumer.run(async (m) => {
      handled = m;
      started();
      await gate;
      await responder.reply(m, `drained:${m.text()}`);
    });
    const pending = (await requester.producer('rr.drain')).request('x', { timeoutMs: 20_000 });
    await handling;
    const closing = responder.close({ timeoutMs: 10_000 });
    release();
    expect((await pending).text()).toBe('drained:x');
    await closing;
    await running;
    await expect(responder.reply(handled!, 'late')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
