import { describe, expect, it } from 'vitest';
import { defaultRetryPolicy } from './backoff.js';
import { DeadlineSignals } from './deadline-signal.js';
import type { DriverProducer } from './driver.js';
import { UnavailableError } from './errors.js';
import { silentLogger } from './logger.js';
import { memoryCapabilities } from './memory/driver.js';
import type { Outgoing, Receipt } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';
import { type AttemptContext, SendWindow, sendAttempts } from './send-attempts.js';
import { type Batch, SendGroup } from './send-queue.js';

/** A batch of one send() of `bodies`, as Producer makes it; `receipts` gets what the send resolves with. */
function oneSend(bodies: string[]): { batch: Batch; group: SendGroup; result: Promise<Receipt[]> } {
  const messages: Outgoing[] = bodies.map((b) => prepareOutgoing(b, memoryCapabilities, 'memory'));
  let resolve!: (r: Receipt[]) => void;
  const result = new Promise<Receipt[]>((res) => {
    resolve = res;
  });
  const group = new SendGroup(messages, resolve as never, undefined);
  return { batch: { messages, segments: [group], queuedAt: Date.now() }, group, result };
}

function context(sendBatch: DriverProducer['sendBatch']): AttemptContext {
  const closing = new AbortController().signal;
  return {
    driver: { native: undefined, sendBatch, close: async () => {} },
    driverName: 'test',
    destination: 'd',
    retry: { ...defaultRetryPolicy, initialDelayMs: 0, maxDelayMs: 0 },
    deadlineMs: defaultRetryPolicy.deadlineMs,
    logger: silentLogger,
    closing,
    deadlines: new DeadlineSignals(closing, 'test'),
    window: new SendWindow(() => {}),
  };
}

describe('sendAttempts: an ended batch lets go of its sends', () => {
  it('empties the batch’s segments once every message has its receipt', async () => {
    const { batch, result } = oneSend(['a', 'b']);
    const ctx = context(async (messages) => messages.map((m) => ({ messageId: m.id })));
    await sendAttempts(ctx, batch);
    expect((await result).map((r) => r.messageId)).toEqual(batch.messages.map((m) => m.id));
    expect(batch.segments).toHaveLength(0);
    ctx.deadlines.close();
  });

  it('empties them too after a retry, and the send still gets every receipt', async () => {
    const { batch, result } = oneSend(['a', 'b']);
    let calls = 0;
    const ctx = context(async (messages) => {
      calls++;
      return messages.map((m, i) =>
        calls === 1 && i === 1 ? new UnavailableError('busy', { driver: 'test' }) : { messageId: m.id },
      );
    });
    await sendAttempts(ctx, batch);
    expect(calls).toBe(2);
    expect((await result).map((r) => r.messageId)).toEqual(batch.messages.map((m) => m.id));
    expect(batch.segments).toHaveLength(0);
    ctx.deadlines.close();
  });

  it('ignores a confirm the driver reports after the batch ended', async () => {
    const { batch, result } = oneSend(['a']);
    let late: ((k: number, receipt: Receipt) => void) | undefined;
    const ctx = context(async (messages, _signal, report) => {
      late = report;
      return messages.map(
        () => new UnavailableError('no confirm in time', { driver: 'test', retryable: false }),
      );
    });
    await sendAttempts(ctx, batch);
    await expect(result).rejects.toThrow('no confirm in time');
    expect(() => late?.(0, { messageId: 'late' })).not.toThrow();
    ctx.deadlines.close();
  });
});
