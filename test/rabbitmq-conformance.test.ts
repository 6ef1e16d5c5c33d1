// The whole conformance suite against the real RabbitMQ, once with classic and once with quorum
// queues (their capabilities differ: quorum queues count deliveries and dead-letter natively).
// Each run has its own vhost and user, deleted afterwards with everything declared in it.

import { runConformance } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { rabbitCapabilities } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { BROKER_HOST, BROKER_PORT, createTestVhost } from './rabbitmq-helpers.js';

for (const queueType of ['classic', 'quorum'] as const) {
  const settings = { queueType, exchangeType: 'topic', topology: 'declare' } as const;
  runConformance({
    name: `rabbitmq (${queueType} queues)`,
    capabilities: rabbitCapabilities({ ...settings, delayLevels: 30, maxMessageBytes: 16 * 1024 * 1024 }),
    harness: async () => {
      const test = await createTestVhost(`conf-${queueType}`);
      const options = {
        driver: 'rabbitmq',
        host: BROKER_HOST,
        port: BROKER_PORT,
        username: test.user,
        password: test.password,
        vhost: test.vhost,
        ...settings,
      };
      const admin = await amqp.connect({
        hostname: BROKER_HOST,
        port: BROKER_PORT,
        username: test.user,
        password: test.password,
        vhost: encodeURIComponent(test.vhost),
      });
      const channel = await admin.createChannel();
      return {
        connect: () => connect(options),
        createDestination: async (name) => {
          await channel.assertExchange(name, 'topic', { durable: true });
        },
        deleteDestination: async (name) => {
          await channel.deleteExchange(name);
        },
        // No nonexistentDestination: with topology 'declare' a producer declares its exchange, so
        // no destination is missing. NOT_FOUND (topology 'check', unroutable 'error') is covered
        // by rabbitmq-errors.test.ts.
        secrets: [test.password],
        close: async () => {
          await admin.close().catch(() => {});
          await test.cleanup();
        },
      };
    },
    native: {
      broker: (native) =>
        typeof native === 'object' &&
        native !== null &&
        typeof (native as { createConfirmChannel?: unknown }).createConfirmChannel === 'function',
      message: (native) =>
        typeof native === 'object' &&
        native !== null &&
        'fields' in native &&
        'properties' in native &&
        Buffer.isBuffer((native as { content?: unknown }).content),
    },
  });
}
