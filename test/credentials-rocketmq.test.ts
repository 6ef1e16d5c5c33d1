// RocketMQ with a rotating role token (TDMQ's accessKey) from a credential provider (issue 22),
// against the emulator's ACL (accessKey = the role token, secretKey = the role name):
// - Remoting (4.x): three rotations under load where the old token is revoked at once; requests
//   signed with it are refused, the pool asks the provider once more and sends again: 0 lost;
// - gRPC (5.x): the same with the old token revoked at once (sends, receives and acks refused
//   with it are retried once with the provider's new token), and three rotations through a secret
//   file swapped to a new token, the old one revoked once the provider has read it: 0 lost.
// Every token is a sentinel, searched for in all output.

import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentinelLeakCheck } from '@switchyard/conformance';
import { connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fullName,
  startTestEmulator,
  TEST_ROLE,
  testConfig,
} from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';
import { credentialEvents, loadWithRotations } from './credentials-support.js';

const leaks = sentinelLeakCheck('rocketmq credentials');
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.stop());

/** Role tokens the emulator accepts for TEST_ROLE; each a sentinel. */
class RoleTokens {
  current: string;
  calls = 0;
  constructor() {
    this.current = this.#issue('token-0');
  }
  #issue(tag: string): string {
    return emulator.issueCredential({ secretId: leaks.sentinel.another(tag), secretKey: TEST_ROLE }).secretId;
  }
  readonly source = async () => {
    this.calls += 1;
    return { secret: this.current };
  };
  /** A new token; the old one is returned for revoking when the caller decides. */
  next(round: number): string {
    const old = this.current;
    this.current = this.#issue(`token-${round}`);
    return old;
  }
}

function withoutToken<T extends Record<string, unknown>>(config: T, credentials: unknown) {
  const { token: _token, ...rest } = config;
  return { ...rest, credentials, logger: leaks.logger } as unknown as Record<string, unknown> & {
    driver: string;
  };
}

describe('rocketmq credentials', () => {
  it('Remoting: three rotations under load, the old token revoked each time: 0 lost, no failed send', async () => {
    const tokens = new RoleTokens();
    const topic = fullName('cred-remoting');
    emulator.engines.rocketmq.createTopic(topic, { type: 'MIXED', queues: 2 });
    const broker = leaks.watch(await connect(withoutToken(remotingConfig(emulator), tokens.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: 'cred-remoting',
        group: 'cred-billing',
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: (round) => {
          emulator.revokeCredential(tokens.next(round));
        },
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, lost: 0 });
      expect(tokens.calls).toBeGreaterThanOrEqual(4);
      expect(events.refreshed).toBeGreaterThanOrEqual(3);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close({ timeoutMs: 5_000 });
    }
  });

  it('gRPC: three rotations under load, the old token revoked each time: 0 lost, no failed send', async () => {
    const tokens = new RoleTokens();
    emulator.engines.rocketmq.createTopic(fullName('cred-grpc-revoke'), { type: 'MIXED', queues: 2 });
    const broker = leaks.watch(await connect(withoutToken(testConfig(emulator), tokens.source)));
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: 'cred-grpc-revoke',
        group: 'cred-grpc-revoke-billing',
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: (round) => {
          emulator.revokeCredential(tokens.next(round));
        },
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, lost: 0 });
      expect(tokens.calls).toBeGreaterThanOrEqual(4);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close({ timeoutMs: 5_000 });
    }
  });

  it('a source that fails when asked again: refresh-failed status event, the refused send is UNAUTHENTICATED, no token shown', async () => {
    const tokens = new RoleTokens();
    let calls = 0;
    emulator.engines.rocketmq.createTopic(fullName('cred-fail'), { type: 'MIXED', queues: 1 });
    const broker = leaks.watch(
      await connect(
        withoutToken(testConfig(emulator), async () => {
          calls += 1;
          if (calls > 1) throw new Error(`vault refused ${leaks.sentinel.another('vault-error')}`);
          return { secret: tokens.current };
        }),
      ),
    );
    let failure: Error | undefined;
    broker.onStatus((e) => {
      if (e.type === 'credentials' && e.state === 'refresh-failed') failure ??= e.error;
    });
    try {
      const producer = await broker.producer('cred-fail', { retry: { maxAttempts: 1 } });
      await producer.send('before');
      emulator.revokeCredential(tokens.next(1));
      const error = await producer.send('after').catch((e: unknown) => e);
      leaks.error(error);
      leaks.error(failure);
      expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(failure).toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      await broker.close({ timeoutMs: 5_000 });
    }
  });

  it('gRPC: three rotations under load through a swapped secret file: 0 lost, no failed send', async () => {
    const tokens = new RoleTokens();
    const dir = mkdtempSync(join(tmpdir(), 'sy-cred-rocket-'));
    const file = join(dir, 'token');
    const write = (value: string) => {
      writeFileSync(`${file}.tmp`, `${value}\n`);
      renameSync(`${file}.tmp`, file);
    };
    write(tokens.current);
    emulator.engines.rocketmq.createTopic(fullName('cred-grpc'), { type: 'MIXED', queues: 2 });
    const broker = leaks.watch(
      await connect(withoutToken(testConfig(emulator), { file: { secret: file }, checkIntervalMs: 0 })),
    );
    const events = credentialEvents(broker);
    try {
      const result = await loadWithRotations({
        broker,
        destination: 'cred-grpc',
        group: 'cred-grpc-billing',
        minimum: 3_000,
        rotateAt: [750, 1_500, 2_250],
        rotate: async (round) => {
          const before = events.refreshed;
          const old = tokens.next(round);
          write(tokens.current);
          // Revoke the old token once the driver uses the new one, as an operator would after
          // seeing the 'refreshed' event; the driver reads the file as it signs.
          await new Promise<void>((resolve) => {
            const off = broker.onStatus((e) => {
              if (e.type === 'credentials' && e.state === 'refreshed' && events.refreshed > before) {
                off();
                resolve();
              }
            });
            if (events.refreshed > before) resolve();
          });
          emulator.revokeCredential(old);
        },
      });
      expect(result.sendFailures).toEqual([]);
      expect(result).toMatchObject({ sent: 3_000, lost: 0 });
      expect(events.refreshed).toBeGreaterThanOrEqual(3);
      expect(events.failed).toEqual([]);
    } finally {
      await broker.close({ timeoutMs: 5_000 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
