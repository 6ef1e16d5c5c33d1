import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import { InvalidArgumentError } from './errors.js';
import { registerDriver } from './registry.js';

let stores = 0;
const store = () => `abort-signal-${process.pid}-${stores++}`;

/** A memory broker whose sends wait at a gate the test opens; `reached` resolves per send that got there. */
async function gated(): Promise<{
  broker: Broker;
  reached: (count?: number) => Promise<void>;
  open: () => void;
}> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let arrive: (() => void) | undefined;
  let arrived = 0;
  const name = `gated-${store()}`;
  registerDriver(
    faultyMemory(name, {
      async beforeSend() {
        arrived++;
        arrive?.();
        await gate;
      },
    }),
  );
  const broker = await connect({ driver: name, name: store() });
  /** Resolves once `count` driver sends have arrived at the gate. */
  const reached = async (count = 1) => {
    while (arrived < count) await new Promise<void>((resolve) => (arrive = resolve));
  };
  return { broker, reached, open };
}

/** Everything on `source` up to and including the marker body `end`. */
async function drainTo(broker: Broker, source: string, end: string): Promise<string[]> {
  const consumer = await broker.consumer(source);
  const seen: string[] = [];
  for await (const message of consumer) {
    await message.ack();
    seen.push(message.text());
    if (message.text() === end) break;
  }
  await consumer.close();
  return seen;
}

describe('producer.send({ signal })', () => {
  it('drops a send still queued in the producer: rejects CLOSED with the reason as cause, nothing sent', async () => {
    const { broker, reached, open } = await gated();
    const producer = await broker.producer('t', { maxInFlight: 1, maxBatchSize: 1 });
    const first = producer.send('a');
    await reached(); // 'a' is in the driver; the next send waits in the producer's queue.
    const controller = new AbortController();
    const queued = producer.send(['b', 'c'], { signal: controller.signal });
    const reason = new Error('user gave up');
    controller.abort(reason);
    const error = await queued.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'CLOSED',
      retryable: false,
      details: { aborted: true, notSent: 2, accepted: 0, unknown: 0 },
    });
    expect((error as Error).cause).toBe(reason);
    expect((error as Error).message).toContain('nothing was sent');
    open();
    await first;
    await producer.send('end');
    expect(await drainTo(broker, 't', 'end')).toEqual(['a', 'end']);
    await broker.close();
  });

  it('says which messages were already handed to the broker and may still arrive', async () => {
    const { broker, reached, open } = await gated();
    const producer = await broker.producer('t', { maxInFlight: 1, maxBatchSize: 1 });
    const controller = new AbortController();
    const sending = producer.send(['x', 'y'], { signal: controller.signal });
    await reached(); // 'x' is in the driver's hands, 'y' still queued.
    controller.abort();
    const error = await sending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CLOSED', details: { notSent: 1, accepted: 0, unknown: 1 } });
    expect((error as Error).message).toContain('may still be accepted');
    expect((error as Error).cause).toMatchObject({ name: 'AbortError' });
    open();
    await producer.send('end');
    // 'x' had been handed over: the broker took it. 'y' was dropped.
    expect(await drainTo(broker, 't', 'end')).toEqual(['x', 'end']);
    await broker.close();
  });

  it('a send handed straight to the driver (nothing queued) is all in the broker hands when aborted', async () => {
    const { broker, reached, open } = await gated();
    const producer = await broker.producer('t', { maxBatchSize: 2 });
    const lone = new AbortController();
    const sending = producer.send('x', { signal: lone.signal });
    await reached();
    const whole = new AbortController();
    // A second send, in a later tick, while the first is in flight and a slot is free: also
    // straight to the driver.
    const both = producer.send(['y', 'z'], { signal: whole.signal });
    await reached(2);
    lone.abort();
    whole.abort();
    await expect(sending).rejects.toMatchObject({
      code: 'CLOSED',
      details: { notSent: 0, accepted: 0, unknown: 1 },
    });
    await expect(both).rejects.toMatchObject({
      code: 'CLOSED',
      details: { notSent: 0, accepted: 0, unknown: 2 },
    });
    open();
    await producer.send('end');
    expect(await drainTo(broker, 't', 'end')).toEqual(['x', 'y', 'z', 'end']);
    await broker.close();
  });

  it('an already aborted signal rejects before anything is queued; a SwitchyardError reason comes back as is', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await broker.producer('t');
    const reason = new InvalidArgumentError('caller-side reason');
    await expect(producer.send('never', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(producer.send(['never'], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CLOSED',
      details: { notSent: 1, accepted: 0, unknown: 0 },
    });
    await producer.send('end');
    expect(await drainTo(broker, 't', 'end')).toEqual(['end']);
    await broker.close();
  });

  it('leaves no abort listener behind once the send settled', async () => {
    const broker = await connect(`memory://${store()}`);
    const producer = await broker.producer('t');
    const controller = new AbortController();
    await producer.send(['a', 'b'], { signal: controller.signal });
    await producer.send('c', { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    controller.abort(); // after the sends resolved: changes nothing.
    await broker.close();
  });
});

describe('consumer.receive({ signal })', () => {
  it('stops waiting when the signal aborts and takes no message', async () => {
    const broker = await connect(`memory://${store()}`);
    const consumer = await broker.consumer('r');
    const controller = new AbortController();
    const receiving = consumer.receive({ waitMs: 600_000, signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    const error = await receiving.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CLOSED', details: { aborted: true } });
    expect((error as Error).cause).toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(consumer.receive({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CLOSED' });
    // The consumer is still usable, and nothing was lost.
    await (await broker.producer('r')).send('kept');
    const [message] = await consumer.receive({ waitMs: 60_000 });
    expect(message?.text()).toBe('kept');
    await message!.ack();
    await broker.close();
  });
});
