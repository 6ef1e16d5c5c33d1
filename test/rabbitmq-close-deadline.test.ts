// broker.close({ timeoutMs }) on RabbitMQ sizes each of its waits on the broker (in-flight work, the
// consumer's cancel, channel and connection closes) by the deadline the portable layer passes down,
// not by fixed waits. The broker's replies are held back by a TCP proxy between the driver and the
// broker (a stalled network, no fake): a close whose deadline has passed must return without them,
// while one with time left waits for them. Which of two such closes resolves first is the
// assertion — the one with time left is started first — so no elapsed time is measured. Nothing is
// lost: what a consumer held goes back to its queue, and a send the broker had not confirmed is
// reported failed (retryable), never sent.

import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type Broker, connect, type Message, type SwitchyardError } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BROKER_HOST, BROKER_PORT, createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

let test: TestVhost;
beforeAll(async () => {
  test = await createTestVhost('close-deadline');
});
afterAll(async () => {
  await test?.cleanup();
});

/** A TCP proxy to the broker that can stop passing the broker's bytes on to the client. */
interface Stall {
  readonly port: number;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

async function stallProxy(): Promise<Stall> {
  const upstreams = new Set<Socket>();
  let held = false;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect({ host: BROKER_HOST, port: BROKER_PORT });
    upstreams.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    if (held) upstream.pause();
    const end = () => {
      upstreams.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    hold() {
      held = true;
      for (const upstream of upstreams) upstream.pause();
    },
    release() {
      held = false;
      for (const upstream of upstreams) upstream.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const upstream of upstreams) upstream.destroy();
        server.close(() => resolve());
      }),
  };
}

function url(port: number): string {
  const auth = `${encodeURIComponent(test.user)}:${encodeURIComponent(test.password)}`;
  // A wait sized by unavailableTimeoutMs instead of the close deadline would outlast the test.
  return `amqp://${auth}@127.0.0.1:${port}/${encodeURIComponent(test.vhost)}?unavailableTimeoutMs=600000`;
}

const BODIES = ['one', 'two', 'three', 'four', 'five', 'six'];
const HELD = 3;

/**
 * A broker through `proxy` whose consumer of `name` holds three of the messages sent (unacked, in
 * the caller's hands) while the others may be prefetched unseen (given back by copy at close), with
 * a producer to the same exchange.
 */
async function holding(proxy: Stall, name: string) {
  const broker = await connect(url(proxy.port));
  const consumer = await broker.consumer(name, { group: 'g', prefetch: BODIES.length });
  const producer = await broker.producer(name);
  await producer.send(BODIES);
  const held: Message[] = [];
  while (held.length < HELD)
    held.push(...(await consumer.receive({ max: HELD - held.length, waitMs: 5_000 })));
  return { broker, producer, held };
}

/** Every body in the group's queue now, read (and acked) over a direct connection. */
async function drain(broker: Broker, name: string): Promise<string[]> {
  const consumer = await broker.consumer(name, { group: 'g' });
  const bodies: string[] = [];
  for (;;) {
    const got = await consumer.receive({ max: 10, waitMs: 1_000 });
    if (got.length === 0) break;
    for (const m of got) {
      bodies.push(m.text());
      await m.ack();
    }
  }
  await consumer.close();
  return bodies;
}

it('a close past its deadline returns without the broker’s replies; nothing held or unconfirmed is lost', {
  timeout: 120_000,
}, async () => {
  const late = await stallProxy();
  const patient = await stallProxy();
  const direct = await connect(test.url);
  try {
    const a = await holding(late, 'close-late');
    const b = await holding(patient, 'close-patient');
    late.hold();
    patient.hold();
    // Written to the broker, its confirm held back.
    const unconfirmed = a.producer.send('unconfirmed').then(
      () => 'sent' as const,
      (e: unknown) => e as SwitchyardError,
    );
    const patientClose = b.broker.close({ timeoutMs: 600_000 }).then(() => 'patient' as const);
    const lateClose = a.broker.close({ timeoutMs: 0 }).then(() => 'late' as const);
    expect(await Promise.race([lateClose, patientClose])).toBe('late');
    const sendOutcome = await unconfirmed;
    expect(sendOutcome).not.toBe('sent');
    expect(sendOutcome).toMatchObject({ retryable: true });
    // The patient close finishes once the broker's replies come through.
    patient.release();
    expect(await patientClose).toBe('patient');

    const lateBodies = await drain(direct, 'close-late');
    for (const body of BODIES) expect(lateBodies).toContain(body);
    // The unconfirmed send may or may not have been stored (that is why it failed retryable).
    expect(lateBodies.filter((body) => !BODIES.includes(body)).every((body) => body === 'unconfirmed')).toBe(
      true,
    );
    // With time to wait, each unseen message's copy was confirmed before its original was acked.
    expect((await drain(direct, 'close-patient')).sort()).toEqual([...BODIES].sort());
  } finally {
    await direct.close();
    await late.close();
    await patient.close();
  }
});
