import type { Message, SwitchyardError } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, type SuiteContext } from './context.js';

/**
 * Request-reply (capability requestReply): a request sent with producer.request() is answered by a
 * consumer on another connection with broker.reply(), and each request gets its own reply however
 * the replies are ordered; no reply in time is a TIMEOUT error, and a reply after that is dropped
 * and counted late. Without the capability, request() fails UNSUPPORTED and sends nothing.
 */
export function requestReplyScenarios(ctx: SuiteContext): void {
  const supported = () => ctx.caps.requestReply === 'native' || ctx.caps.requestReply === 'emulated';

  it('request() resolves with the reply correlated to it, over another connection', {
    timeout: 60_000,
  }, async (t) => {
    if (!supported()) return t.skip('no request-reply (capability requestReply)');
    const dest = await ctx.destination('rr');
    const responder = await ctx.connectAnother();
    const consumer = await responder.consumer(dest, { group: ctx.group() });
    // Answered in reverse order of arrival once all three came: correlation pairs them, not order.
    const held: Message[] = [];
    const running = consumer.run(
      async (m) => {
        held.push(m);
        if (held.length < 3) return;
        for (const r of [...held].reverse()) await responder.reply(r, { body: `re:${r.text()}` });
      },
      { concurrency: 3 },
    );
    const producer = await ctx.broker.producer(dest);
    const replies = await Promise.all(
      ['one', 'two', 'three'].map((body) => producer.request(body, { timeoutMs: ctx.ms(30_000) })),
    );
    expect(replies.map((r) => r.text())).toEqual(['re:one', 're:two', 're:three']);
    expect(producer.lateReplies).toBe(0);
    await consumer.close();
    await running;
    await producer.close();
  });

  it('no reply within timeoutMs rejects TIMEOUT; the reply after it is dropped and counted', {
    timeout: 60_000,
  }, async (t) => {
    if (!supported()) return t.skip('no request-reply (capability requestReply)');
    const dest = await ctx.destination('rr-late');
    const responder = await ctx.connectAnother();
    const consumer = await responder.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    // The rejection is taken at once: the timeout may fire while the request is still on its way
    // to the responder, and a rejection nobody holds yet is an unhandled one.
    const rejected = ctx.rejection(producer.request('slow', { timeoutMs: ctx.ms(1_000) }));
    const [request] = await collect(consumer, 1, ctx.ms(30_000), { ack: false });
    expect(request).toBeDefined();
    const error = (await rejected) as SwitchyardError;
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    await responder.reply(request!, 'too late');
    await request!.ack();
    const deadline = Date.now() + ctx.ms(30_000);
    while (producer.lateReplies === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(producer.lateReplies).toBe(1);
    await consumer.close();
    await producer.close();
  });

  it('broker.reply() to a message sent without a reply address is INVALID_ARGUMENT', {
    timeout: 60_000,
  }, async (t) => {
    if (!supported()) return t.skip('no request-reply (capability requestReply)');
    const dest = await ctx.destination('rr-plain');
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    await (await ctx.broker.producer(dest)).send('no reply wanted');
    const [message] = await collect(consumer, 1, ctx.ms(30_000));
    const error = (await ctx.rejection(ctx.broker.reply(message!, 'x'))) as SwitchyardError;
    expect(error.code).toBe('INVALID_ARGUMENT');
    await consumer.close();
  });

  it('without the capability, request() fails UNSUPPORTED', async (t) => {
    if (supported()) return t.skip('this driver has request-reply');
    const dest = await ctx.destination('rr-none');
    const producer = await ctx.broker.producer(dest);
    const error = (await ctx.rejection(producer.request('x', { timeoutMs: 1_000 }))) as SwitchyardError;
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('requestReply');
  });
}
