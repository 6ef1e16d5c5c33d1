// Config objects are typed per driver once its package is imported (DriverConfigs, declaration
// merging in each driver's index.ts). The @ts-expect-error lines are the test: the root typecheck
// (npm test's pretest) fails if a driver stops declaring its fields and a typo type-checks again.
// At run time the same typos are refused by the drivers' strict config schemas.

import { connect } from '@switchyard/core';
import '@switchyard/cmq';
import '@switchyard/pulsar';
import '@switchyard/pulsar-http';
import '@switchyard/rabbitmq';
import '@switchyard/rocketmq';
import { expect, it } from 'vitest';

it.each([
  // @ts-expect-error 'prefech' is not a RabbitMQ field (prefetch is a consumer option)
  () => connect({ driver: 'rabbitmq', url: 'amqp://127.0.0.1:1', prefech: 5 }),
  // @ts-expect-error CMQ's model is 'queue' or 'topic'
  () => connect({ driver: 'cmq', model: 'stream' }),
  // @ts-expect-error 'secretkey' is not a Pulsar-over-HTTP field (secretKey is)
  () => connect({ driver: 'pulsar-http', secretkey: 'x' }),
  // @ts-expect-error RocketMQ's endpoints is a string
  () => connect({ driver: 'rocketmq', endpoints: 9876 }),
  // @ts-expect-error 'serviceURL' is not a native Pulsar field (serviceUrl is)
  () => connect({ driver: 'pulsar', serviceURL: 'pulsar://127.0.0.1:1' }),
])('a typo in a typed config object is also refused at run time (%#)', async (open) => {
  await expect(open()).rejects.toMatchObject({ code: expect.stringMatching(/CONFIG|INVALID_ARGUMENT/) });
});
