// RabbitMQ with a rotating password (TDMQ's role token) from a credential provider (issue 22), on
// the real broker: a user of this test's own, its password changed with `rabbitmqctl
// change_password` three times under load and its connections closed each time, so the driver must
// reconnect; the provider still holds the old password, the broker refuses it, and the driver asks
// the provider once more and reconnects with the new one before reporting anything. 0 lost.
// Every password is a sentinel, searched for in all output; a failing source is checked too.

import { sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialEvents, loadWithRotations } from './credentials-support.js';
import {
  BROKER_HOST,
  BROKER_PORT,
  createTestVhost,
  rabbitmqctl,
  type TestVhost,
} from './rabbitmq-helpers.js';

const leaks = sentinelLeakCheck('rabbitmq credentials');
let rabbit: TestVhost;
let password = leaks.sentinel.value;

/** rabbitmqctl repeats its arguments in errors: keep the sentinel out of the report. */
async function ctl(...args: string[]): Promise<void> {
  await rabbitmqctl(...args).catch((error: unknown) => {
    throw new Error(leaks.sentinel.mask(String((error as Error).message)));
  });
}

beforeAll(async () => {
  rabbit = await createTestVhost('creds');
  await ctl('change_password', rabbit.user, password);
});
afterAll(() => rabbit?.cleanup());

function config(credentials: unknown) {
  return {
    driver: 'rabbitmq',
    host: BROKER_HOST,
    port: BROKER_PORT,
    vhost: rabbit.vhost,
    username: rabbit.user,
    credentials,
    logger: leaks.logger,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
  };
}

describe('rabbitmq credentials', () => {
  it('three password rotations under load, each followed by a dropped connection: 0 lost, no failed send', async () => {
    let calls = 0;
    const source = async () => {
      calls += 1;
      return { secret: password };
    };
    const broker = leaks.watch(await connect(config(source)));
    const events = credentialEvents(broker);
    let reconnects = 0;
    broker.onStatus((e) => {
      if (e.type === 'reconnecting') reconnects += 1;
    });
    try {
      const result = await loadWithRotations({
        broker,
        destination: 'cred-orders',
        group: 'billing',
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: async (round) => {
          const next = leaks.sentinel.another(`pw${round}`);
          await ctl('change_password', rabbit.user, next);
          password = next;
          // The broker keeps open connections through a password change; drop ours, as a
          // network blip or a broker restart would, so the next connection needs the new one.
          await ctl('close_all_user_connections', rabbit.user, 'credential rotation test');
        },
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, received: 3_000, lost: 0 });
      expect(reconnects).toBeGreaterThanOrEqual(3);
      // Each new password was fetched after the broker refused the old one.
      expect(calls).toBeGreaterThanOrEqual(4);
      expect(events.refreshed).toBeGreaterThanOrEqual(3);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  it('a source that fails when asked again: the refusal is reported as UNAUTHENTICATED, the status event and errors show no password', async () => {
    let calls = 0;
    const current = password;
    const broker = leaks.watch(
      await connect(
        config(async () => {
          calls += 1;
          if (calls > 1) throw new Error(`vault refused ${leaks.sentinel.another('vault-error')}`);
          return { secret: current };
        }),
      ),
    );
    const failed = new Promise<Error | undefined>((resolve) =>
      broker.onStatus((e) => {
        if (e.type === 'credentials' && e.state === 'refresh-failed') resolve(e.error);
      }),
    );
    try {
      await broker.consumer('cred-fail', { group: 'billing' });
      await (await broker.producer('cred-fail')).send('before');
      const next = leaks.sentinel.another('pw-unknown');
      await ctl('change_password', rabbit.user, next);
      password = next;
      await ctl('close_all_user_connections', rabbit.user, 'credential failure test');
      const error = await failed;
      leaks.error(error);
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      await broker.close();
    }
  });
});
