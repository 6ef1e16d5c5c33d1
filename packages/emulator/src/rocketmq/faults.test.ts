// Injected faults as the real client sees them: `error` is gRPC UNAVAILABLE (code 14), `hang`
// runs into the client's deadline (DEADLINE_EXCEEDED, code 4), `reset` drops the connection,
// latency holds the call before it is served; after the rule is cleared the same client carries on.

import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOptions, startTestServer, teardown } from '../../test-kit/rocketmq.js';
import { Faults } from '../faults/injector.js';
import type { RocketMqServer } from './server.js';

let server: RocketMqServer | undefined;
const clients: { shutdown(): Promise<unknown> }[] = [];
afterEach(() => teardown(server, clients));

async function setup() {
  const faults = new Faults({ seed: 1 });
  server = await startTestServer({ faults });
  const consumer = new SimpleConsumer({
    ...clientOptions(server, { requestTimeout: 1000 }),
    consumerGroup: 'G1',
    subscriptions: new Map([['T1', '*']]),
    awaitDuration: 300,
  });
  clients.push(consumer);
  await consumer.startup();
  const producer = new Producer({ ...clientOptions(server, { requestTimeout: 1000 }), topics: ['T1'] });
  clients.push(producer);
  await producer.startup();
  return { faults, consumer, producer };
}

describe('fault injection (real client)', () => {
  it('error on SendMessage is UNAVAILABLE after the client retries; clearing it recovers', async () => {
    const { faults, producer, consumer } = await setup();
    faults.setRule({ protocol: 'rocketmq', action: 'SendMessage', errorRate: 1 });
    await expect(producer.send({ topic: 'T1', body: Buffer.from('lost') })).rejects.toMatchObject({
      code: 14,
    });
    expect(server?.engine.messages('T1')).toHaveLength(0);
    // Some attempts fail: the client's own retries (3 attempts) get every send through.
    let injected = 0;
    const decide = faults.decide.bind(faults);
    faults.decide = (protocol, action) => {
      const decision = decide(protocol, action);
      if (decision.kind === 'error') injected++;
      return decision;
    };
    faults.setRule({ protocol: 'rocketmq', action: 'SendMessage', errorRate: 0.3 });
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'T1', body: Buffer.from(`m${i}`) });
    expect(injected).toBeGreaterThan(0);
    faults.clear();
    await producer.send({ topic: 'T1', body: Buffer.from('m5') });
    const got: string[] = [];
    while (got.length < 6) got.push(...(await consumer.receive(32, 15_000)).map((m) => m.body.toString()));
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('latency holds the call before it is served: past the client deadline it fails unserved, short it succeeds', async () => {
    const { faults, producer } = await setup();
    const bodies = () => server!.engine.messages('T1').map((m) => m.body.toString());
    faults.setRule({ protocol: 'rocketmq', action: 'SendMessage', latencyMs: 60_000 });
    await expect(producer.send({ topic: 'T1', body: Buffer.from('held') })).rejects.toThrow();
    expect(bodies()).toEqual([]);
    faults.setRule({ protocol: 'rocketmq', action: 'SendMessage', latencyMs: 300 });
    await producer.send({ topic: 'T1', body: Buffer.from('slow') });
    expect(bodies()).toEqual(['slow']);
  });

  it('hang runs into the client deadline; reset drops the connection; both recover', async () => {
    const { faults, producer, consumer } = await setup();
    await producer.send({ topic: 'T1', body: Buffer.from('x') });
    const [m] = await consumer.receive(32, 15_000);
    faults.setRule({ protocol: 'rocketmq', action: 'AckMessage', hangRate: 1 });
    await expect(consumer.ack(m!)).rejects.toMatchObject({ code: 4 });
    faults.setRule({ protocol: 'rocketmq', action: 'AckMessage', resetRate: 1 });
    await expect(consumer.ack(m!)).rejects.toMatchObject({ code: 14 });
    faults.clear();
    await consumer.ack(m!);
    expect(await consumer.receive(32, 15_000)).toEqual([]);
  });

  it('error on ReceiveMessage reaches the SimpleConsumer; the next receive works', async () => {
    const { faults, producer, consumer } = await setup();
    await producer.send({ topic: 'T1', body: Buffer.from('y') });
    faults.setRule({ protocol: 'rocketmq', action: 'ReceiveMessage', errorRate: 1 });
    await expect(consumer.receive(32, 15_000)).rejects.toMatchObject({ code: 14 });
    faults.clear();
    expect((await consumer.receive(32, 15_000)).map((x) => x.body.toString())).toEqual(['y']);
  });
});
