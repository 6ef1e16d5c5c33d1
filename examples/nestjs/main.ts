// A NestJS microservice on Switchyard: it answers quote requests (@MessagePattern) and records
// placed orders (@EventPattern, acked by hand through the context), and a Nest client asks for a
// quote and announces an order. The flavour is the one line below: memory, RabbitMQ, CMQ, Pulsar
// over HTTP, ... — the controller and the client do not change.
//
//   npx tsx --conditions=switchyard-source examples/nestjs/main.ts
//   SWITCHYARD_URL=amqp://guest:guest@127.0.0.1:5672 npx tsx ... examples/nestjs/main.ts

import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { BrokerConfig } from '@switchyard/core';
import { SwitchyardClient, SwitchyardServer } from '@switchyard/nestjs';
import '@switchyard/rabbitmq';
import '@switchyard/cmq';
import '@switchyard/pulsar-http';
import '@switchyard/rocketmq';
import { lastValueFrom } from 'rxjs';
import { AppModule } from './app.module.js';
import { type OrderLine, PLACED_ORDERS, type PlacedOrders } from './orders.controller.js';

/** The one line that picks the flavour. */
const SWITCHYARD_URL = process.env.SWITCHYARD_URL ?? 'memory://nestjs-example';

export async function startService(url: string | BrokerConfig): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(AppModule, {
    // A group per pattern's destination: every flavour accepts it, and RocketMQ 4.x requires it
    // (a 4.x group subscribes one topic in every member).
    strategy: new SwitchyardServer({
      connect: url,
      group: (destination) => `orders-service-${destination}`,
      noAck: false,
    }),
    logger: ['error', 'warn'],
  });
  await app.listen();
  return app;
}

export interface RunResult {
  readonly quote: { total: number; lines: number };
  readonly rejected: string;
  readonly placed: readonly string[];
}

/** Starts the service, asks it for a quote, sends it a bad request and an event, and stops. */
export async function run(url: string | BrokerConfig): Promise<RunResult> {
  const app = await startService(url);
  const client = new SwitchyardClient({ connect: url, timeoutMs: 30_000 });
  try {
    const lines: OrderLine[] = [
      { sku: 'tea', price: 4, qty: 2 },
      { sku: 'cake', price: 3, qty: 1 },
    ];
    const quote = await lastValueFrom(client.send<{ total: number; lines: number }>('orders-quote', lines));
    const rejected = await lastValueFrom(client.send('orders-quote', [])).then(
      () => 'accepted',
      (error: { message?: string }) => error.message ?? String(error),
    );
    await lastValueFrom(client.emit('orders-placed', { id: 'order-1' }));
    const placed = app.get<PlacedOrders>(PLACED_ORDERS);
    await placed.seen('order-1');
    return { quote, rejected, placed: placed.ids };
  } finally {
    await client.close();
    await app.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run(SWITCHYARD_URL);
  console.log(`quote: total ${result.quote.total} for ${result.quote.lines} lines`);
  console.log(`empty order: ${result.rejected}`);
  console.log(`placed: ${result.placed.join(', ')}`);
}
