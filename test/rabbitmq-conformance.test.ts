// The whole conformance suite against the real RabbitMQ, once with classic and once with quorum
// queues (their capabilities differ: quorum queues count deliveries and dead-letter natively).
// Each run has its own vhost and user, deleted afterwards with everything declared in it.
//
// The user's password is the file's sentinel secret (sentinelLeakCheck; set with rabbitmqctl
// change_password, so parallel files never share a user), and a wrong password is a second
// sentinel; every output line, log call, status event and caught error is searched for them.

import { runConformance, sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { rabbitCapabilities } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { BROKER_HOST, BROKER_PORT, createTestVhost, rabbitmqctl } from './rabbitmq-helpers.js';
import { recordConformancePoison } from './reliability-report.js';

const leaks = sentinelLeakCheck('rabbitmq conformance');
const PASSWORD = leaks.sentinel.value;
const WRONG_PASSWORD = leaks.sentinel.another('wrong');

for (const queueType of ['classic', 'quorum'] as const) {
  // Pub/sub semantics of the portable suite: a message no group's filter matches is dropped, as on
  // every other flavour (the driver's default rejects it).
  const settings = { queueType, exchangeType: 'topic', topology: 'declare', unroutable: 'warn' } as const;
  runConformance({
    onPoison: recordConformancePoison,
    name: `rabbitmq (${queueType} queues)`,
    leakCheck: leaks,
    // The service patterns run once, on classic queues; the queue type changes only how attempts
    // are counted and dead-lettered, which the other scenarios cover on both.
    patterns: queueType === 'classic',
    capabilities: rabbitCapabilities({ ...settings, delayLevels: 30, maxMessageBytes: 16 * 1024 * 1024 }),
    harness: async () => {
      const test = await createTestVhost(`conf-${queueType}`);
      await rabbitmqctl('change_password', test.user, PASSWORD).catch(async (error: unknown) => {
        await test.cleanup();
        // rabbitmqctl's error repeats its arguments: keep the sentinel out of the test report.
        throw new Error(leaks.sentinel.mask(String((error as Error).message)));
      });
      const options = (password: string) => ({
        driver: 'rabbitmq',
        host: BROKER_HOST,
        port: BROKER_PORT,
        username: test.user,
        password,
        vhost: test.vhost,
        logger: leaks.logger,
        ...settings,
      });
      const openAdmin = async () => {
        const connection = await amqp.connect({
          hostname: BROKER_HOST,
          port: BROKER_PORT,
          username: test.user,
          password: PASSWORD,
          vhost: encodeURIComponent(test.vhost),
        });
        connection.on('error', () => {});
        return { connection, channel: await connection.createChannel() };
      };
      let { connection: admin, channel } = await openAdmin();
      return {
        // Every connection of this run's vhost is cut, as a broker restart would; other files'
        // vhosts are untouched, so the suite can run beside them.
        restart: async () => {
          await rabbitmqctl('close_all_connections', '--vhost', test.vhost, 'conformance restart');
          ({ connection: admin, channel } = await openAdmin());
        },
        // The vhost refuses connections and every open one is cut: down for this run only.
        outage: async () => {
          await rabbitmqctl('set_vhost_limits', '-p', test.vhost, '{"max-connections": 0}');
          await rabbitmqctl('close_all_connections', '--vhost', test.vhost, 'conformance outage');
          return async () => {
            await rabbitmqctl('clear_vhost_limits', '-p', test.vhost);
            ({ connection: admin, channel } = await openAdmin());
          };
        },
        connect: () => connect(options(PASSWORD)),
        connectWithWrongCredentials: () => connect(options(WRONG_PASSWORD)),
        createDestination: async (name) => {
          await channel.assertExchange(name, 'topic', { durable: true });
        },
        deleteDestination: async (name) => {
          await channel.deleteExchange(name);
        },
        // No nonexistentDestination: with topology 'declare' a producer declares its exchange, so
        // no destination is missing. NOT_FOUND (topology 'check', unroutable 'error') is covered
        // by rabbitmq-errors.test.ts.
        secrets: [PASSWORD, WRONG_PASSWORD],
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
