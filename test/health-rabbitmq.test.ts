// broker.health() on RabbitMQ tells the truth: the driver reaches the shared broker through a TCP
// proxy this test owns (the shared RabbitMQ itself is never stopped). Stopping the proxy cuts every
// connection and refuses new ones, as a broker that went away does: health turns down. Starting it
// again on the same port lets the driver reconnect: health turns up. Each state change is waited
// for by asking health() again, never by timing.

import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type Broker, connect } from '@switchyard/core';
import '@switchyard/rabbitmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { healthBecomes } from './health-support.js';
import { BROKER_HOST, BROKER_PORT, createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

/** A TCP proxy to the shared broker that can be stopped (every connection cut) and started again. */
class BrokerProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect({ host: BROKER_HOST, port: BROKER_PORT });
      this.#sockets.add(client).add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  }
}

let vhost: TestVhost;
const proxy = new BrokerProxy();
let broker: Broker;
beforeAll(async () => {
  vhost = await createTestVhost('health');
  await proxy.start();
  const auth = `${encodeURIComponent(vhost.user)}:${encodeURIComponent(vhost.password)}`;
  broker = await connect(`amqp://${auth}@127.0.0.1:${proxy.port}/${encodeURIComponent(vhost.vhost)}`);
});
afterAll(async () => {
  await broker?.close({ timeoutMs: 2_000 });
  await proxy.stop();
  await vhost?.cleanup();
});

it('is down while the broker is unreachable and up again once it is back', { timeout: 120_000 }, async () => {
  const up = await broker.health();
  expect(up).toMatchObject({ status: 'up', details: { driver: 'rabbitmq' } });

  await proxy.stop();
  const down = await healthBecomes(broker, 'down', 2_000);
  expect(down.details.code).toBe('UNAVAILABLE');
  expect(String(down.details.error)).toMatch(/^health probe: /);
  // No secret in what an HTTP probe would show.
  expect(JSON.stringify(down)).not.toContain(vhost.password);

  await proxy.start();
  const again = await healthBecomes(broker, 'up', 2_000);
  expect(again.details.driver).toBe('rabbitmq');
  // Up means usable: a round trip through the reconnected driver.
  const consumer = await broker.consumer('health.check');
  await (await broker.producer('health.check')).send('after the outage');
  let got: string | undefined;
  while (got === undefined) got = (await consumer.receive({ max: 1 }))[0]?.text();
  expect(got).toBe('after the outage');
});

it('is down, without asking the broker, once the broker is closed', async () => {
  const other = await connect(vhost.url);
  await other.close();
  expect(await other.health()).toMatchObject({ status: 'down', details: { error: 'the broker is closed' } });
});
