// Pulsar over HTTP with rotating Cloud API credentials (issue 22), against the emulator's Cloud API:
// - three rotations under load where the old key is revoked at once: requests signed with it are
//   refused, the driver asks its provider again and sends again — 0 lost, no failed send;
// - temporary keys (SecretId, SecretKey, X-TC-Token) that expire, refreshed ahead of expiry by the
//   provider three times under load — 0 lost, no failed send;
// - the file source (a Kubernetes secret mount swapped to a new key), the env source, and a refresh
//   that fails: the old key serves until it expires, then UNAUTHENTICATED; the sentinel secret in
//   every key, file and failing source's error is searched for in everything the file outputs.

import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialEvents, loadWithRotations, RotatingKeys } from './credentials-support.js';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

const leaks = sentinelLeakCheck('pulsar-http credentials');
let env: PulsarHttpEnv;
let topicSeq = 0;

beforeAll(async () => {
  env = await startPulsarHttpEnv({ namespace: 'creds' });
});
afterAll(() => env.close());

/** The env's config without its inline keys, with `credentials` instead. */
function configWith(credentials: unknown) {
  const {
    secretId: _id,
    secretKey: _key,
    ...rest
  } = env.config({
    receiveWaitMs: 200,
    logger: leaks.logger,
    credentials,
  });
  return rest as { driver: string } & Record<string, unknown>;
}

async function topic(): Promise<string> {
  const name = `cred-${++topicSeq}`;
  await env.createTopic(name);
  return name;
}

describe('pulsar-http credentials', () => {
  // A load test: what it asserts is 0 lost and no failed send. Scheduled beside dedupe-crash's
  // SIGKILLed processes in CI it took 22–30 s (5 s beside lighter files), past the 30 s default.
  it('three rotations under load, the old key revoked each time: 0 lost, no failed send', {
    timeout: 120_000,
  }, async () => {
    const keys = new RotatingKeys(env.emulator);
    const broker = leaks.watch(await connect(configWith(keys.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: await topic(),
        group: 'billing',
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: () => keys.rotate(),
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, received: 3_000, lost: 0 });
      // Each rotation was noticed through a refused request and one more ask of the source.
      expect(keys.calls).toBeGreaterThanOrEqual(4);
      expect(events.refreshed).toBeGreaterThanOrEqual(3);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  it('temporary keys with a session token, refreshed ahead of expiry three times under load: 0 lost', async () => {
    const keys = new RotatingKeys(env.emulator, 6_000);
    const broker = leaks.watch(await connect(configWith(keys.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: await topic(),
        group: 'billing',
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

  it('file source: a Kubernetes secret mount swapped to a new key takes effect; env source; no key shown', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-cred-pulsar-'));
    try {
      const first = env.emulator.issueCredential({ secretKey: leaks.sentinel.value });
      const second = env.emulator.issueCredential({ secretKey: leaks.sentinel.another('second-key') });
      const mount = (dir: string, c: { secretId: string; secretKey: string }) => {
        mkdirSync(join(root, dir));
        writeFileSync(join(root, dir, 'secretId'), `${c.secretId}\n`);
        writeFileSync(join(root, dir, 'secretKey'), `${c.secretKey}\n`);
      };
      mount('..v1', first);
      symlinkSync('..v1', join(root, '..data'));
      symlinkSync('..data/secretId', join(root, 'secretId'));
      symlinkSync('..data/secretKey', join(root, 'secretKey'));
      const name = await topic();
      const broker = leaks.watch(
        await connect(
          configWith({
            file: { id: join(root, 'secretId'), secret: join(root, 'secretKey') },
            checkIntervalMs: 0,
          }),
        ),
      );
      try {
        const producer = await broker.producer(name);
        const consumer = await broker.consumer(name, { group: 'files' });
        await producer.send('one');
        mount('..v2', second);
        symlinkSync('..v2', join(root, '..data_tmp'));
        renameSync(join(root, '..data_tmp'), join(root, '..data'));
        env.emulator.revokeCredential(first.secretId);
        await producer.send('two');
        const texts: string[] = [];
        while (texts.length < 2) {
          for (const m of await consumer.receive({ max: 10, waitMs: 1_000 })) {
            texts.push(m.text());
            await m.ack();
          }
        }
        expect(texts.sort()).toEqual(['one', 'two']);
      } finally {
        await broker.close();
      }
      // The env source reads the variables it is given.
      const third = env.emulator.issueCredential({ secretKey: leaks.sentinel.another('env-key') });
      process.env.SY_TEST_PULSAR_ID = third.secretId;
      process.env.SY_TEST_PULSAR_KEY = third.secretKey;
      const viaEnv = leaks.watch(
        await connect(configWith({ env: { id: 'SY_TEST_PULSAR_ID', secret: 'SY_TEST_PULSAR_KEY' } })),
      );
      try {
        await (await viaEnv.producer(name)).send('three');
      } finally {
        delete process.env.SY_TEST_PULSAR_ID;
        delete process.env.SY_TEST_PULSAR_KEY;
        await viaEnv.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a failing refresh: status event with UNAUTHENTICATED, the old key serves until it expires, then sends fail UNAUTHENTICATED', async () => {
    const temp = env.emulator.issueCredential({ ttlMs: 3_000 });
    let calls = 0;
    const broker = leaks.watch(
      await connect(
        configWith(async () => {
          calls += 1;
          if (calls > 1) throw new Error(`STS refused role ${leaks.sentinel.another('sts-error')}`);
          return { id: temp.secretId, secret: temp.secretKey, token: temp.token, expiresAt: temp.expiresAt };
        }),
      ),
    );
    const failed = new Promise<Error | undefined>((resolve) =>
      broker.onStatus((e) => {
        if (e.type === 'credentials' && e.state === 'refresh-failed') resolve(e.error);
      }),
    );
    try {
      const name = await topic();
      const producer = await broker.producer(name, { retry: { maxAttempts: 1 } });
      // Sending until the refresh (due at 2 s of the 3 s) has failed; every send still succeeds.
      let failure: Error | undefined;
      void failed.then((e) => {
        failure = e;
      });
      while (failure === undefined) await producer.send('still-valid');
      expect(failure).toMatchObject({ code: 'UNAUTHENTICATED' });
      leaks.error(failure);
      // After the key's real expiry, the provider has nothing valid: a typed error, not a hang.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, (temp.expiresAt ?? 0) - Date.now() + 50)),
      );
      const error = await producer.send('after-expiry').catch((e: unknown) => e);
      leaks.error(error);
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(String((error as Error).message)).toMatch(/credentials/);
    } finally {
      await broker.close();
    }
  });
});
