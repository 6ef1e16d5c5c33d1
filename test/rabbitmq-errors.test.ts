// Every error path of the rabbitmq driver against the real broker: each maps to its portable code
// and retryable flag, and no rendering of the error (String, stack, util.inspect, JSON) contains the
// password.

import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { outgoing } from '@switchyard/conformance/outgoing';
import { connect, type Driver, type StatusEvent, silentLogger } from '@switchyard/core';
import { driver as rabbitmq } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BROKER_HOST,
  BROKER_PORT,
  createTestVhost,
  rabbitmqctl,
  type TestVhost,
} from './rabbitmq-helpers.js';

let test: TestVhost;
let admin: amqp.ChannelModel;
beforeAll(async () => {
  test = await createTestVhost('errors');
  admin = await connectAdmin();
});

/** A plain amqplib connection for arranging topology behind the driver's back. */
function connectAdmin(): Promise<amqp.ChannelModel> {
  return amqp.connect(test.url);
}
afterAll(async () => {
  await admin?.close().catch(() => {});
  await test?.cleanup();
});

function base(extra: Record<string, unknown> = {}) {
  return {
    driver: 'rabbitmq',
    host: BROKER_HOST,
    port: BROKER_PORT,
    username: test.user,
    password: test.password,
    vhost: test.vhost,
    ...extra,
  };
}

/** Asserts no rendering of `error` contains any of `secrets`. */
function expectNoSecret(error: unknown, ...secrets: string[]): void {
  expect(error).toBeInstanceOf(Error);
  const rendered = [
    String(error),
    (error as Error).stack,
    inspect(error, { depth: 10 }),
    JSON.stringify(error),
  ].join('\n');
  for (const secret of [test.password, ...secrets]) {
    expect(rendered).not.toContain(secret);
    expect(rendered).not.toContain(encodeURIComponent(secret));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('connecting', () => {
  it('bad credentials fail UNAUTHENTICATED, not retryable, without the password', async () => {
    const wrong = `Wrong-${test.password}`;
    const error = await connect(base({ password: wrong })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false, driver: 'rabbitmq' });
    expectNoSecret(error, wrong);
    // The URL form too: the password sits in the URL the caller passed.
    const viaUrl = await connect(
      test.url.replace(encodeURIComponent(test.password), encodeURIComponent(wrong)),
    ).catch((e: unknown) => e);
    expect(viaUrl).toMatchObject({ code: 'UNAUTHENTICATED' });
    expectNoSecret(viaUrl, wrong);
  });

  it('an unreachable port fails UNAVAILABLE and retryable', async () => {
    const port = await freePort();
    const error = await connect(base({ port })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain(String(port));
    expectNoSecret(error);
  });

  it('a vhost that does not exist fails NOT_FOUND', async () => {
    const error = await connect(base({ vhost: `${test.vhost}-missing` })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false });
    expect((error as Error).message).toContain(`${test.vhost}-missing`);
    expectNoSecret(error);
  });

  it('an invalid config names the field and never echoes the password', async () => {
    const error = await connect(base({ port: 'x', prefetch: 3 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG' });
    expect((error as Error).message).toMatch(/config\.port/);
    expectNoSecret(error);
  });
});

describe('topology', () => {
  it('a passive check of a missing exchange fails NOT_FOUND when the account may not declare', async () => {
    const broker = await connect(base({ topology: 'check' }));
    try {
      const error = await broker.producer('no-such-exchange').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      expect((error as Error).message).toContain('no-such-exchange');
      expectNoSecret(error);
      const consumerError = await broker
        .consumer('no-such-exchange', { group: 'g' })
        .catch((e: unknown) => e);
      expect(consumerError).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await broker.close();
    }
  });

  it('check mode uses what exists (console-created exchange and queue) and only binds', async () => {
    const ch = await admin.createChannel();
    await ch.assertExchange('console-made', 'topic', { durable: true });
    await ch.assertQueue('console-made.workers', { durable: true });
    const broker = await connect(base({ topology: 'check' }));
    try {
      expect(broker.capabilities.delayedSend).toBe(false);
      expect(broker.capabilities.nackDelay).toBe('emulated');
      const consumer = await broker.consumer('console-made', { group: 'workers' });
      const producer = await broker.producer('console-made');
      await producer.send({ body: 'hello', routingKey: 'a.b' });
      const [m] = await consumer.receive({ waitMs: 5_000 });
      expect(m?.text()).toBe('hello');
      await m?.ack();
      await expect(producer.send({ body: 'later', delayMs: 10 })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
      });
    } finally {
      await broker.close();
      await ch.close();
    }
  });

  it('an exchange deleted under a producer fails its sends NOT_FOUND, not retried', async () => {
    const ch = await admin.createChannel();
    await ch.assertExchange('short-lived', 'topic', { durable: true });
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (_: object, m?: string) => warnings.push(m ?? ''),
      error() {},
    };
    const broker = await connect(base({ topology: 'check', logger }));
    try {
      const producer = await broker.producer('short-lived');
      await ch.deleteExchange('short-lived');
      const error = await producer.send('x').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      // Not retried: the portable layer logs every retry of a send.
      expect(warnings.filter((w) => w.includes('retrying'))).toEqual([]);
      expectNoSecret(error);
    } finally {
      await broker.close();
      await ch.close();
    }
  });

  it("unroutable: 'error' rejects a message no queue is bound for with NOT_FOUND", async () => {
    const broker = await connect(base({ unroutable: 'error' }));
    try {
      const producer = await broker.producer('nobody-listens');
      const error = await producer.send({ body: 'lost?', routingKey: 'a.b' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: false, details: { unroutable: true } });
      const consumer = await broker.consumer('nobody-listens', { group: 'now' });
      await producer.send({ body: 'routed', routingKey: 'a.b' });
      const [m] = await consumer.receive({ waitMs: 5_000 });
      expect(m?.text()).toBe('routed');
      await m?.ack();
    } finally {
      await broker.close();
    }
  });

  it('a queue that exists with other arguments fails ALREADY_EXISTS', async () => {
    const ch = await admin.createChannel();
    await ch.assertQueue('typed.workers', { durable: true, arguments: { 'x-queue-type': 'classic' } });
    const broker = await connect(base({ queueType: 'quorum' }));
    try {
      const error = await broker.consumer('typed', { group: 'workers' }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ALREADY_EXISTS', retryable: false });
      expect((error as Error).message).toContain('x-queue-type');
    } finally {
      await broker.close();
      await ch.close();
    }
  });

  it('routing-key patterns on a direct exchange fail UNSUPPORTED', async () => {
    const broker = await connect(base({ exchangeType: 'direct' }));
    try {
      const error = await broker
        .consumer('direct-x', { group: 'g', filter: { routingKeys: ['a.*'] } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNSUPPORTED' });
    } finally {
      await broker.close();
    }
  });
});

describe('messages', () => {
  it('an oversize message fails MESSAGE_TOO_LARGE naming the limit, before it is sent', async () => {
    const broker = await connect(base({ maxMessageBytes: 1024 }));
    try {
      const producer = await broker.producer('sizes');
      const error = await producer.send(new Uint8Array(1025)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', retryable: false });
      expect((error as Error).message).toContain('1024');
      expectNoSecret(error);
    } finally {
      await broker.close();
    }
  });

  it('headers too large for an AMQP frame table fail INVALID_ARGUMENT', async () => {
    const broker = await connect(base());
    try {
      const producer = await broker.producer('big-headers');
      const error = await producer
        .send({ body: 'x', headers: { huge: 'h'.repeat(70_000) } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    } finally {
      await broker.close();
    }
  });
});

describe('outage', () => {
  it('sends wait through an outage, then fail UNAVAILABLE (retryable); status reports it; it heals', async () => {
    const events: StatusEvent[] = [];
    const { driver: _name, ...fields } = base({ unavailableTimeoutMs: 1_500 });
    const config = rabbitmq.parseConfig(fields);
    const driver: Driver = await rabbitmq.create(config, {
      logger: silentLogger,
      status: (e) => events.push(e),
    });
    const temporary = `Tmp-${test.password}`;
    try {
      const producer = await driver.openProducer('outage', { driverOptions: {} });
      const consumer = await driver.openConsumer('outage', {
        group: 'g',
        filter: {},
        prefetch: 10,
        visibilityTimeoutMs: undefined,
        startFrom: undefined,
        deadLetter: undefined,
        driverOptions: {},
      });
      // Keep the driver out: the password changes, then its connection is cut.
      await rabbitmqctl('change_password', test.user, temporary);
      await rabbitmqctl('close_all_connections', '--vhost', test.vhost, 'outage test');
      const message = outgoing({
        id: 'o-1',
        body: Buffer.from('during'),
        contentType: 'text/plain',
        publishedAt: Date.now(),
      });
      // Failing (not hanging until the test's timeout) after reconnect attempts, below, is what
      // shows the driver kept its unavailableTimeoutMs.
      const [result] = await producer.sendBatch([message]);
      expect(result).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expectNoSecret(result, temporary);
      const reconnecting = events.filter((e) => e.type === 'reconnecting');
      expect(reconnecting.length).toBeGreaterThan(0);
      expect(
        reconnecting.some((e) => e.type === 'reconnecting' && e.error?.message.includes('refused')),
      ).toBe(true);
      for (const e of reconnecting)
        if (e.type === 'reconnecting' && e.error) expectNoSecret(e.error, temporary);

      // Back in: the driver reconnects by itself, the send goes through, the consumer resumes.
      await rabbitmqctl('change_password', test.user, test.password);
      // The driver retries with backoff (up to reconnect.maxDelayMs): a send right after the
      // password is back may still wait out one backoff and fail UNAVAILABLE (retryable), as the
      // portable Producer would retry it. Heal = a send succeeds within a few backoffs.
      let ok: Awaited<ReturnType<typeof producer.sendBatch>>[number] | undefined;
      for (const healBy = Date.now() + 20_000; Date.now() < healBy; ) {
        [ok] = await producer.sendBatch([message]);
        if (!(ok instanceof Error)) break;
        expect(ok).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      }
      expect(ok).toEqual({ messageId: 'o-1' });
      const got = await consumer.receiveBatch(1, 10_000);
      expect(Buffer.from(got[0]!.body).toString()).toBe('during');
      await consumer.ack(got);
      expect(events.at(-1)?.type).toBe('connected');
      await consumer.close();
      await producer.close();
    } finally {
      await rabbitmqctl('change_password', test.user, test.password);
      await driver.close();
      // The cut closed the admin connection too.
      admin = await connectAdmin();
    }
  });
});

describe('channel-level recovery', () => {
  it('a consumer whose queue is deleted re-declares it and keeps consuming (declare mode)', async () => {
    const broker = await connect(base());
    const ch = await admin.createChannel();
    try {
      const consumer = await broker.consumer('phoenix', { group: 'g' });
      const producer = await broker.producer('phoenix');
      await ch.deleteQueue('phoenix.g');
      // The broker cancels the consumer; it comes back on a new channel with a new queue.
      const deadline = Date.now() + 10_000;
      let got: string | undefined;
      while (got === undefined && Date.now() < deadline) {
        // Until the queue is back nothing is bound: the send fails NOT_FOUND, never resolves dropped.
        const sent = await producer.send('after').then(
          () => true,
          (e: unknown) => {
            expect(e).toMatchObject({ code: 'NOT_FOUND' });
            return false;
          },
        );
        if (!sent) continue;
        const [m] = await consumer.receive({ waitMs: 200 });
        got = m?.text();
        await m?.ack();
      }
      expect(got).toBe('after');
    } finally {
      await broker.close();
      await ch.close();
    }
  });

  it('in check mode a deleted queue stops the consumer with NOT_FOUND, never silently', async () => {
    const ch = await admin.createChannel();
    await ch.assertExchange('vanishing', 'topic', { durable: true });
    await ch.assertQueue('vanishing.g', { durable: true });
    const broker = await connect(base({ topology: 'check' }));
    try {
      const consumer = await broker.consumer('vanishing', { group: 'g' });
      await ch.deleteQueue('vanishing.g');
      const error = await consumer
        .run(() => {})
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ code: 'NOT_FOUND' });
      expect((error as Error).message).toContain('vanishing.g');
    } finally {
      await broker.close();
      await ch.close();
    }
  });
});
