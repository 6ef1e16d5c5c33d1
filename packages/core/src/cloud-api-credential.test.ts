import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cloudApiCredential } from './cloud-api-credential.js';
import { CredentialProvider } from './credentials.js';

describe('cloudApiCredential', () => {
  it('asks the provider at each signing, so a rotated key is used from the next request on', async () => {
    let calls = 0;
    let now = 1_000_000;
    const provider = new CredentialProvider(
      () => {
        calls += 1;
        return { id: `AKID${calls}`, secret: `key${calls}`, token: `tok${calls}`, expiresAt: now + 60_000 };
      },
      { driver: 'test', now: () => now, refreshAheadMs: 1_000 },
    );
    const credential = cloudApiCredential(provider);
    expect(await credential.getCredential()).toEqual({ secretId: 'AKID1', secretKey: 'key1', token: 'tok1' });
    // Past expiry: the provider fetches again and the next signing uses the new key.
    now += 120_000;
    expect(await credential.getCredential()).toEqual({ secretId: 'AKID2', secretKey: 'key2', token: 'tok2' });
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
