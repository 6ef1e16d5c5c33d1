import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseWithSchema } from './config.js';
import { credentialSourceSchema } from './credential-sources.js';
import { CredentialProvider } from './credentials.js';
import { isSwitchyardError } from './errors.js';
import type { StatusEvent } from './status.js';

const secretValue = (tag: string) => `SECRET-${randomBytes(6).toString('hex')}-${tag}`;

/** Every way a value could leak from an error, event or provider. */
function printed(...things: unknown[]): string {
  return things
    .map((t) => {
      const e = t as { message?: string; stack?: string; cause?: unknown };
      return [
        inspect(t, { depth: 8 }),
        JSON.stringify(t) ?? '',
        e?.message ?? '',
        e?.stack ?? '',
        inspect(e?.cause),
      ].join('\n');
    })
    .join('\n');
}

function recorder() {
  const events: StatusEvent[] = [];
  const waiters: Array<[(e: StatusEvent) => boolean, (e: StatusEvent) => void]> = [];
  return {
    events,
    status: (event: StatusEvent) => {
      events.push(event);
      for (const w of [...waiters]) {
        if (w[0](event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w[1](event);
        }
      }
    },
    next: (state: string) =>
      new Promise<StatusEvent>((resolve) =>
        waiters.push([(e) => e.type === 'credentials' && e.state === state, resolve]),
      ),
  };
}

describe('CredentialProvider', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('answers from memory, refreshes ahead of expiry in the background, and uses the new one after', async () => {
    let now = 1_000_000;
    let calls = 0;
    const rec = recorder();
    const provider = new CredentialProvider(
      async () => {
        calls += 1;
        return {
          id: `AKID${calls}`,
          secret: secretValue(String(calls)),
          token: `tok${calls}`,
          expiresAt: now + 60_000,
        };
      },
      { driver: 'test', status: rec.status, now: () => now },
    );
    const first = await provider.get();
    expect(first.id).toBe('AKID1');
    now += 30_000; // not yet due: a third of the lifetime before expiry is 40 s in
    expect(await provider.get()).toBe(first);
    expect(calls).toBe(1);
    now += 15_000; // due, not expired: the old one answers while the new one is fetched
    const refreshed = rec.next('refreshed');
    expect(await provider.get()).toBe(first);
    await refreshed;
    const second = await provider.get();
    expect(second.id).toBe('AKID2');
    expect(second.token?.reveal()).toBe('tok2');
    expect(calls).toBe(2);
  });

  it('fresh() answers the current credential without a promise, and nothing once it has expired', async () => {
    let now = 1_000_000;
    let calls = 0;
    const rec = recorder();
    const provider = new CredentialProvider(
      () => {
        calls += 1;
        return { id: `AKID${calls}`, secret: secretValue(String(calls)), expiresAt: now + 60_000 };
      },
      { driver: 'test', status: rec.status, now: () => now },
    );
    expect(provider.fresh()).toBeUndefined(); // nothing loaded yet: get() must fetch
    const first = await provider.get();
    expect(provider.fresh()).toBe(first);
    now += 45_000; // due, not expired: answered from memory while the refresh runs, as get() does
    const refreshed = rec.next('refreshed');
    expect(provider.fresh()).toBe(first);
    await refreshed;
    const second = provider.fresh();
    expect(second?.id).toBe('AKID2');
    now += 120_000; // expired, and nothing refreshed it: only a fetch can answer
    expect(provider.fresh()).toBeUndefined();
    expect((await provider.get()).id).toBe('AKID3');
    expect(calls).toBe(3);
  });

  it('a failed refresh is a status event with UNAUTHENTICATED; the old credential serves until it expires, then get() fails', async () => {
    let now = 0;
    const sentinel = secretValue('sentinel');
    let fail = false;
    const rec = recorder();
    const provider = new CredentialProvider(
      {
        provider: async () => {
          if (fail) throw new Error(`vault said no for ${sentinel}`);
          return { secret: sentinel, expiresAt: now + 9_000 };
        },
      },
      { driver: 'test', what: 'test SecretKey', status: rec.status, now: () => now, retryMs: 1 },
    );
    const first = await provider.get();
    fail = true;
    now = 7_000;
    const failed = rec.next('refresh-failed');
    expect(await provider.get()).toBe(first);
    const event = await failed;
    const error = (event as { error?: Error }).error;
    expect(isSwitchyardError(error) && error.code).toBe('UNAUTHENTICATED');
    expect(error?.message).toMatch(/test SecretKey: getting a credential from the function source failed/);
    expect(error?.message).toMatch(/stays in use until/);
    // The source's own text may quote anything, so it is withheld, yet reachable on purpose.
    expect(error?.message).toMatch(/it threw Error \(its message is withheld/);
    expect(((error as Error).cause as { unwrap(): Error }).unwrap().message).toContain('vault said no');
    now = 9_000;
    const rejected = await provider.get().catch((e: unknown) => e);
    expect(isSwitchyardError(rejected) && rejected.code).toBe('UNAUTHENTICATED');
    expect((rejected as Error).message).toMatch(/expired at/);
    expect(printed(error, rejected, event, provider, first)).not.toContain(sentinel);
  });

  it('re-reads files when a Kubernetes secret mount swaps its ..data symlink', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-cred-'));
    dirs.push(root);
    const version = (name: string, id: string, key: string) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'secretId'), `${id}\n`);
      writeFileSync(join(root, name, 'secretKey'), `${key}\n`);
    };
    const keyA = secretValue('a');
    const keyB = secretValue('b');
    version('..2026_a', 'AKIDA', keyA);
    symlinkSync('..2026_a', join(root, '..data'));
    symlinkSync('..data/secretId', join(root, 'secretId'));
    symlinkSync('..data/secretKey', join(root, 'secretKey'));
    const rec = recorder();
    const provider = new CredentialProvider(
      { file: { id: join(root, 'secretId'), secret: join(root, 'secretKey') }, checkIntervalMs: 0 },
      { driver: 'test', status: rec.status },
    );
    const a = await provider.get();
    expect([a.id, a.secret.reveal()]).toEqual(['AKIDA', keyA]);
    // What the kubelet does: write the new version beside, then atomically repoint ..data.
    version('..2026_b', 'AKIDB', keyB);
    symlinkSync('..2026_b', join(root, '..data_tmp'));
    renameSync(join(root, '..data_tmp'), join(root, '..data'));
    const refreshed = rec.next('refreshed');
    await provider.get();
    await refreshed;
    const b = await provider.get();
    expect([b.id, b.secret.reveal()]).toEqual(['AKIDB', keyB]);
  });

  it('a missing file or environment variable is UNAUTHENTICATED naming it, never its value', async () => {
    const files = new CredentialProvider(
      { file: { secret: '/nonexistent/sy/secretKey' } },
      { driver: 'test' },
    );
    await expect(files.get()).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/credentials\.file\.secret \(\/nonexistent\/sy\/secretKey\): ENOENT/),
    });
    const env = new CredentialProvider(
      { env: { id: 'SY_TEST_ID', secret: 'SY_TEST_KEY' } },
      { driver: 'test', env: { SY_TEST_ID: 'AKIDX' } },
    );
    await expect(env.get()).rejects.toMatchObject({ message: expect.stringMatching(/SY_TEST_KEY/) });
    const key = secretValue('env');
    const ok = new CredentialProvider(
      { env: { id: 'SY_TEST_ID', secret: 'SY_TEST_KEY', token: 'SY_TEST_TOKEN' } },
      { driver: 'test', env: { SY_TEST_ID: 'AKIDX', SY_TEST_KEY: key } },
    );
    const c = await ok.get();
    expect([c.id, c.secret.reveal(), c.token]).toEqual(['AKIDX', key, undefined]);
    expect(printed(ok, c)).not.toContain(key);
  });

  it('refresh() resolves with the same object when the source still gives the same credential', async () => {
    const key = secretValue('same');
    let rotated = false;
    const provider = new CredentialProvider(async () => ({ secret: rotated ? `${key}-2` : key }), {
      driver: 'test',
    });
    const first = await provider.get();
    expect(await provider.refresh()).toBe(first);
    rotated = true;
    const second = await provider.refresh();
    expect(second).not.toBe(first);
    expect(second.secret.reveal()).toBe(`${key}-2`);
    // After a refusal: undefined when nothing changed, the new one when another request got it.
    expect(await provider.replacementFor(second)).toBeUndefined();
    expect(await provider.replacementFor(first)).toBe(second);
    const fixed = CredentialProvider.fixed({ secret: key }, { driver: 'test' });
    expect(await fixed.replacementFor(await fixed.get())).toBeUndefined();
    expect(fixed.rotates).toBe(false);
    expect(provider.rotates).toBe(true);
  });

  it('the config schema takes every form and names a bad field without its value', () => {
    const schema = credentialSourceSchema;
    expect(() => parseWithSchema(schema, { env: { secret: 'X' } }, 'config.credentials')).not.toThrow();
    expect(() => parseWithSchema(schema, { file: { secret: '/x' }, checkIntervalMs: 10 }, 'c')).not.toThrow();
    expect(() => parseWithSchema(schema, async () => ({ secret: 'x' }), 'c')).not.toThrow();
    const key = secretValue('schema');
    let error: unknown;
    try {
      parseWithSchema(schema, { value: { secret: key }, typo: key }, 'config.credentials');
    } catch (e) {
      error = e;
    }
    expect(isSwitchyardError(error) && error.code).toBe('CONFIG');
    expect(printed(error)).not.toContain(key);
  });
});
