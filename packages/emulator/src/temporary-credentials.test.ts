// Temporary credentials on both HTTP protocols, driven by clients we did not write where there is
// one: the real tencentcloud-sdk-nodejs TDMQ client (X-TC-Token) for the Cloud API, and signed CMQ
// requests carrying the SDKs' Token parameter. The auth clock is moved by hand past the expiry.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmqTestClient } from '../test-kit/cmq.js';
import { ManualClock } from '../test-kit/manual-clock.js';
import { rejection, sdk } from '../test-kit/tcapi.js';
import { CmqEngine } from './cmq/engine.js';
import { CmqHandler } from './cmq/handler.js';
import type { Credential } from './contracts.js';
import { Faults } from './faults/injector.js';
import { createProtocolServer, type ProtocolServer } from './server/protocol-server.js';
import { createTcApiHandler } from './tcapi/handler.js';
import { CredentialStore, credentialAdminRoutes } from './temporary-credentials.js';

const clock = new ManualClock();
const list: Credential[] = [{ secretId: 'AKIDPERMANENT', secretKey: 'permanent-key' }];
const store = new CredentialStore(list, clock);
const cmq = new CmqEngine({ clock, recreateGuardSeconds: 0 });
let api: ProtocolServer;
let cmqServer: ProtocolServer;

beforeAll(async () => {
  const faults = new Faults({ rules: [] });
  const apiHandler = createTcApiHandler({ credentials: list, cmq, clock, authClock: clock });
  api = await createProtocolServer(apiHandler, { host: '127.0.0.1', port: 0, faults, inspect: () => ({}) });
  const cmqHandler = new CmqHandler({ engine: cmq, credentials: list, clock });
  cmqServer = await createProtocolServer(cmqHandler, {
    host: '127.0.0.1',
    port: 0,
    faults,
    inspect: () => ({}),
  });
  cmq.createQueue('temp-q');
});
afterAll(async () => {
  await api.close();
  await cmqServer.close();
  cmq.close();
});

function apiClient(c: { secretId: string; secretKey: string; token?: string | undefined }) {
  return new sdk.Client({
    credential: { secretId: c.secretId, secretKey: c.secretKey, ...(c.token ? { token: c.token } : {}) },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: `127.0.0.1:${api.port}`, protocol: 'http://', reqTimeout: 10 } },
  });
}

describe('temporary credentials', () => {
  it('Cloud API: works with its X-TC-Token until it expires; AuthFailure.TokenFailure without it, with another or after', async () => {
    const temp = store.issue({ ttlMs: 60_000 });
    expect(temp.secretId).toMatch(/^AKID/);
    await apiClient(temp).DescribeCmqQueueDetail({ QueueName: 'temp-q' });
    expect(
      await rejection(
        apiClient({ ...temp, token: undefined }).DescribeCmqQueueDetail({ QueueName: 'temp-q' }),
      ),
    ).toMatchObject({ code: 'AuthFailure.TokenFailure' });
    const other = store.issue({ ttlMs: 60_000 });
    expect(
      await rejection(
        apiClient({ ...temp, token: other.token }).DescribeCmqQueueDetail({ QueueName: 'temp-q' }),
      ),
    ).toMatchObject({ code: 'AuthFailure.TokenFailure' });
    clock.advance(60_000);
    const expired = await rejection(apiClient(temp).DescribeCmqQueueDetail({ QueueName: 'temp-q' }));
    expect(expired).toMatchObject({
      code: 'AuthFailure.TokenFailure',
      message: expect.stringMatching(/expired/),
    });
    // A permanent key needs no token.
    await apiClient(list[0]!).DescribeCmqQueueDetail({ QueueName: 'temp-q' });
  });

  it('CMQ: the Token parameter is signed and checked; expired is 4100 (10080), a bad token 4100 (10030)', async () => {
    const client = new CmqTestClient(cmqServer.url, clock);
    const temp = store.issue({ ttlMs: 30_000 });
    const send = (token: string | undefined) =>
      client.call(
        'SendMessage',
        { queueName: 'temp-q', msgBody: 'x', ...(token ? { Token: token } : {}) },
        { credential: temp },
      );
    expect((await send(temp.token)).code).toBe(0);
    expect(await send(undefined)).toMatchObject({
      code: 4100,
      message: expect.stringMatching(/^\(10030\)|authentication failed/),
    });
    expect(await send('not-the-token')).toMatchObject({ code: 4100 });
    clock.advance(30_000);
    expect(await send(temp.token)).toMatchObject({
      code: 4100,
      message: expect.stringMatching(/secret id status error/),
    });
  });

  it('a revoked key is an unknown SecretId; the admin route mints STS-shaped keys', () => {
    const temp = store.issue({ ttlMs: 1_000 });
    expect(list).toContain(temp);
    expect(store.revoke(temp.secretId)).toBe(true);
    expect(list).not.toContain(temp);
    const [route] = credentialAdminRoutes(store);
    const minted = route!.handle('POST', '/_emulator/credentials', { ttlSeconds: 120 });
    expect(minted.status).toBe(200);
    const body = minted.body as {
      TmpSecretId: string;
      TmpSecretKey: string;
      Token: string;
      ExpiredTime: number;
    };
    expect(body.ExpiredTime).toBe(Math.floor((clock.now() + 120_000) / 1000));
    expect(list.find((c) => c.secretId === body.TmpSecretId)?.token).toBe(body.Token);
    expect(route!.handle('POST', '/_emulator/credentials', { ttlSeconds: -1 }).status).toBe(400);
    expect(route!.handle('DELETE', `/_emulator/credentials/${body.TmpSecretId}`, {}).status).toBe(200);
    expect(route!.handle('DELETE', `/_emulator/credentials/${body.TmpSecretId}`, {}).status).toBe(404);
  });
});
