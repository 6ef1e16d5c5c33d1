// The Nest transport's own promises, on a real Nest microservice over the memory driver: a handler
// that throws gets the message again (noAck: true nacks with backoff) and the retry is acked; a
// plain Switchyard request (any client with a reply address) reaches a @MessagePattern handler; a
// send() nobody answers fails TIMEOUT; an object pattern without a destination mapping is refused
// at listen; the health helpers' shapes.

import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Controller, type INestMicroservice, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { type Broker, connect, type Message } from '@switchyard/core';
import {
  healthResponse,
  SwitchyardClient,
  type SwitchyardContext,
  SwitchyardServer,
  switchyardHealth,
} from '@switchyard/nestjs';
import { lastValueFrom } from 'rxjs';
import { afterEach, beforeEach, expect, it } from 'vitest';

const SEEN = Symbol('seen');
type Seen = Array<{ id: string; attempt: number }>;
const REQUESTS = Symbol('requests');

@Controller()
class FlakyController {
  constructor(
    @Inject(SEEN) private readonly seen: Seen,
    @Inject(REQUESTS) private readonly requests: Message[],
  ) {}

  @EventPattern<string>('flaky-events')
  handle(@Payload() data: { id: string }, @Ctx() ctx: SwitchyardContext): void {
    const attempt = ctx.getMessage().deliveryAttempt;
    this.seen.push({ id: data.id, attempt });
    if (attempt === 1) throw new Error('first delivery fails');
  }

  @MessagePattern('double')
  double(@Payload() n: number, @Ctx() ctx: SwitchyardContext): number {
    this.requests.push(ctx.getMessage());
    return n * 2;
  }
}

@Module({
  controllers: [FlakyController],
  providers: [
    { provide: SEEN, useFactory: () => [] },
    { provide: REQUESTS, useFactory: () => [] },
  ],
})
class FlakyModule {}

let url: string;
let broker: Broker;
const apps: INestMicroservice[] = [];
beforeEach(async () => {
  url = `memory://nestjs-transport-${randomUUID()}`;
  broker = await connect(url);
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await broker.close();
});

async function start(options: Partial<ConstructorParameters<typeof SwitchyardServer>[0]> = {}) {
  const app = await NestFactory.createMicroservice(FlakyModule, {
    strategy: new SwitchyardServer({ broker, consumer: { retry: { initialDelayMs: 10 } }, ...options }),
    logger: false,
  });
  apps.push(app);
  await app.listen();
  return app;
}

it('redelivers an event whose handler threw and acks the retry (noAck: true)', async () => {
  const app = await start();
  await (await broker.producer('flaky-events')).send({ body: { id: 'e1' } });
  const seen = app.get<Seen>(SEEN);
  while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(seen).toEqual([
    { id: 'e1', attempt: 1 },
    { id: 'e1', attempt: 2 },
  ]);
});

it('answers a plain Switchyard request, not only a Nest client', async () => {
  await start();
  const producer = await broker.producer('double');
  const reply = await producer.request({ body: 21 }, { timeoutMs: 10_000 });
  expect(reply.json()).toBe(42);
  const client = new SwitchyardClient({ broker });
  expect(await lastValueFrom(client.send('double', 5))).toBe(10);
  await client.close();
  // A client on a broker it was given leaves that broker open.
  expect(broker.closed).toBe(false);
});

it('acks a request once its reply is sent, also when handlers settle by hand (noAck: false)', async () => {
  const app = await start({ noAck: false });
  const client = new SwitchyardClient({ broker });
  expect(await lastValueFrom(client.send('double', 4))).toBe(8);
  const [request] = app.get<Message[]>(REQUESTS);
  // The reply can arrive before the ack after it: wait for the ack.
  while (request!.state !== 'acked') await new Promise((resolve) => setTimeout(resolve, 10));
  expect(request!.state).toBe('acked');
  await client.close();
});

it('fails a send() nobody answers with TIMEOUT', async () => {
  const client = new SwitchyardClient({ connect: url, timeoutMs: 200 });
  await expect(lastValueFrom(client.send('nobody-home', 1))).rejects.toMatchObject({ code: 'TIMEOUT' });
  await client.close();
});

it('refuses an object pattern that names no destination, saying how to map it', async () => {
  @Controller()
  class ObjectPattern {
    @MessagePattern({ cmd: 'sum' })
    sum(): number {
      return 0;
    }
  }
  @Module({ controllers: [ObjectPattern] })
  class ObjectModule {}
  const app = await NestFactory.createMicroservice(ObjectModule, {
    strategy: new SwitchyardServer({ broker }),
    logger: false,
  });
  await expect(app.listen()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /destinations/ });
  await app.close();
});

it('health helpers: the terminus indicator shape and an HTTP status', async () => {
  expect(await switchyardHealth(broker, 'queue')).toMatchObject({
    queue: { status: 'up', driver: 'memory' },
  });
  expect((await healthResponse(broker)).statusCode).toBe(200);
  const closed = await connect(url);
  await closed.close();
  const down = await healthResponse(closed);
  expect(down.statusCode).toBe(503);
  expect(JSON.parse(down.body)).toMatchObject({ status: 'down' });
});
