// CMQ with rotating credentials (issue 22), against the emulator. CMQ's data plane takes temporary
// keys: the official SDKs send the session token as the signed `Token` parameter
// (tencentyun/cmq-python-sdk CMQClient.set_token; the Java and Go SDKs likewise), so the driver
// signs it into every request, and management (Cloud API 3.0) sends it as X-TC-Token.
// - three rotations under load, the old key revoked at once: 0 lost, no failed send;
// - temporary keys refreshed ahead of expiry three times under load (queues created through
//   management with the same keys): 0 lost;
// - a failing refresh: status event, old key until expiry, then UNAUTHENTICATED;
// every key and the failing source's error carry the sentinel, searched for in all output.

import { sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig, startTestEmulator } from '../packages/cmq/test-kit/emulator.js';
import { credentialEvents, loadWithRotations, RotatingKeys } from './credentials-support.js';

const leaks = sentinelLeakCheck('cmq credentials');
let emulator: RunningEmulator;
let seq = 0;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.stop());

function configWith(credentials: unknown) {
  const {
    secretId: _id,
    secretKey: _key,
    ...rest
  } = emulatorConfig(emulator, {
    manageTopology: true,
    logger: leaks.logger,
  } as never);
  return { ...rest, credentials } as { driver: string } & Record<string, unknown>;
}

describe('cmq credentials', () => {
  it('three rotations under load, the old key revoked each time: 0 lost, no failed send', async () => {
    const keys = new RotatingKeys(emulator);
    const broker = leaks.watch(await connect(configWith(keys.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: `cred-q-${++seq}`,
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: () => keys.rotate(),
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, received: 3_000, lost: 0 });
      expect(keys.calls).toBeGreaterThanOrEqual(4);
      expect(events.refreshed).toBeGreaterThanOrEqual(3);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  it('temporary keys with a Token, refreshed ahead of expiry three times under load: 0 lost', async () => {
    const keys = new RotatingKeys(emulator, 6_000);
    const broker = leaks.watch(await connect(configWith(keys.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: `cred-q-${++seq}`,
        minimum: 2_000,
        until: () => events.refreshed >= 3,
      });
      expect(result.sendFailures).toEqual([]);
      expect(result.lost).toBe(0);
      expect(result.received).toBe(result.sent);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  it('a failing refresh: status event with UNAUTHENTICATED, the old key serves until it expires, then UNAUTHENTICATED', async () => {
    const temp = emulator.issueCredential({ ttlMs: 3_000, secretKey: leaks.sentinel.value });
    let calls = 0;
    const broker = leaks.watch(
      await connect(
        configWith(async () => {
          calls += 1;
          if (calls > 1) throw new Error(`STS refused ${leaks.sentinel.another('sts-error')}`);
          return { id: temp.secretId, secret: temp.secretKey, token: temp.token, expiresAt: temp.expiresAt };
        }),
      ),
    );
    let failure: Error | undefined;
    broker.onStatus((e) => {
      if (e.type === 'credentials' && e.state === 'refresh-failed') failure ??= e.error;
    });
    try {
      const producer = await broker.producer(`cred-q-${++seq}`, { retry: { maxAttempts: 1 } });
      await broker.consumer(`cred-q-${seq}`).then((c) => c.close());
      while (failure === undefined) await producer.send('still-valid');
      expect(failure).toMatchObject({ code: 'UNAUTHENTICATED' });
      leaks.error(failure);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, (temp.expiresAt ?? 0) - Date.now() + 50)),
      );
      const error = await producer.send('after-expiry').catch((e: unknown) => e);
      leaks.error(error);
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      await broker.close();
    }
  });
});
