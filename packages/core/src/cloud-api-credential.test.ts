import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cloudApiCredential } from './cloud-api-credential.js';
import { CredentialProvider } from './credentials.js';

/** A source of temporary keys valid for a minute, numbered by fetch, on a clock the test moves. */
function temporaryKeys() {
  const keys = { calls: 0, now: 1_000_000 };
  const provider = new CredentialProvider(
    () => {
      keys.calls += 1;
      const n = keys.calls;
      return { id: `AKID${n}`, secret: `key${n}`, token: `tok${n}`, expiresAt: keys.now + 60_000 };
    },
    { driver: 'test', now: () => keys.now, refreshAheadMs: 1_000 },
  );
  return Object.assign(keys, { provider });
}

describe('cloudApiCredential', () => {
  it('asks the provider at each signing, so a rotated key is used from the next request on', async () => {
    const keys = temporaryKeys();
    const credential = cloudApiCredential(keys.provider);
    expect(await credential.getCredential()).toEqual({ secretId: 'AKID1', secretKey: 'key1', token: 'tok1' });
    // Past expiry: the provider fetches again and the next signing uses the new key.
    keys.now += 120_000;
    expect(await credential.getCredential()).toEqual({ secretId: 'AKID2', secretKey: 'key2', token: 'tok2' });
  });

  it('answers a fresh credential at once as one object per credential, and fetches an expired one again', async () => {
    const keys = temporaryKeys();
    const credential = cloudApiCredential(keys.provider);
    // Nothing loaded yet: a promise (the SDK awaits it).
    const loading = credential.getCredential();
    expect(loading).toBeInstanceOf(Promise);
    const first = await loading;
    // Loaded and fresh: no promise, and the same object for every request signed with it.
    const again = credential.getCredential();
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toBe(first);
    expect(credential.getCredential()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(keys.calls).toBe(1);
    // Expired: fetched again, and the new key is a new answer.
    keys.now += 120_000;
    const rotated = credential.getCredential();
    expect(rotated).toBeInstanceOf(Promise);
    expect(await rotated).toEqual({ secretId: 'AKID2', secretKey: 'key2', token: 'tok2' });
    expect(credential.getCredential()).toBe(await rotated);
    expect(keys.calls).toBe(2);
    expect(inspect(credential, { depth: 10 })).not.toContain('key2');
    expect(JSON.stringify(credential)).not.toContain('key2');
  });

  it('sends no token for a permanent key, and the object itself holds no secret', async () => {
    const provider = CredentialProvider.fixed(
      { id: 'AKIDfixed', secret: 'sentinel-key-value' },
      { driver: 'test' },
    );
    const credential = cloudApiCredential(provider);
    const answered = await credential.getCredential();
    expect(answered).toEqual({ secretId: 'AKIDfixed', secretKey: 'sentinel-key-value' });
    expect('token' in answered).toBe(false);
    expect(inspect(credential, { depth: 10 })).not.toContain('sentinel-key-value');
    expect(JSON.stringify(credential)).not.toContain('sentinel-key-value');
  });
});
