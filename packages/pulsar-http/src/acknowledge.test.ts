import { promiseHooks } from 'node:v8';
import { CredentialProvider } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { acknowledgeAll, type Handle, type Pack } from './acknowledge.js';
import { Api } from './client.js';
import { fromUrl } from './config.js';

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** An Api over a fixed, loaded key whose SDK request() is `request` (the SDK is the boundary here). */
async function api(maxConcurrency: number, request: (action: string, params: object) => Promise<unknown>) {
  const config = fromUrl(
    new URL(
      `pulsar-http+http://id:key@127.0.0.1:9?region=ap-guangzhou&cluster=c&maxConcurrency=${maxConcurrency}`,
    ),
    {},
  );
  const credentials = new CredentialProvider(config.credentials as never, {
    driver: 'pulsar-http',
    what: 'test',
    status: () => {},
    logger: QUIET as never,
  });
  await credentials.get();
  const made = new Api(config, credentials);
  (made.sdk as unknown as { request: typeof request }).request = request;
  return made;
}

function handle(id: string, pack?: Pack): Handle {
  return { messageId: id, ackTopic: 'ack-topic', subName: 'sub', acked: false, pack, lease: undefined };
}

describe('acknowledgeAll (a consumer ack() batch)', () => {
  it('sends one AcknowledgeMessage per un-acked delivery, in order and within maxConcurrency', async () => {
    const sent: string[] = [];
    const answers: Array<() => void> = [];
    const client = await api(2, (action, params) => {
      sent.push(`${action} ${(params as { MessageId: string }).MessageId}`);
      return new Promise((resolve) => answers.push(() => resolve({})));
    });
    const handles = ['a', 'b', 'c'].map((id) => handle(id));
    const done = acknowledgeAll(client, handles);
    // Two slots: the third request waits for one.
    expect(sent).toEqual(['AcknowledgeMessage a', 'AcknowledgeMessage b']);
    answers[0]!();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual(['AcknowledgeMessage a', 'AcknowledgeMessage b', 'AcknowledgeMessage c']);
    answers[1]!();
    answers[2]!();
    await done;
    expect(handles.map((h) => h.acked)).toEqual([true, true, true]);
    // Idempotent: acked deliveries send nothing again.
    await acknowledgeAll(client, handles);
    expect(sent).toHaveLength(3);
    client.close();
  });

  it('acks a pack once its last member is settled', async () => {
    const sent: string[] = [];
    const client = await api(4, (_action, params) => {
      sent.push((params as { MessageId: string }).MessageId);
      return Promise.resolve({});
    });
    const pack: Pack = { remaining: 2, acked: false };
    const first = handle('p', pack);
    await acknowledgeAll(client, [first]);
    expect(sent).toEqual([]);
    await acknowledgeAll(client, [handle('p', pack)]);
    expect(sent).toEqual(['p']);
    expect(pack).toEqual({ remaining: 0, acked: true });
    client.close();
  });

  it('marks what succeeded and rejects with the non-retryable error over a retryable one', async () => {
    const client = await api(4, (_action, params) => {
      const id = (params as { MessageId: string }).MessageId;
      if (id === 'busy') return Promise.reject(Object.assign(new Error('busy'), { code: 'InternalError' }));
      if (id === 'refused') return Promise.resolve({ ErrorMsg: 'no such message' });
      return Promise.resolve({});
    });
    const handles = ['busy', 'ok', 'refused'].map((id) => handle(id));
    // An ErrorMsg is an UnavailableError (retryable): the first retryable one is the batch's error.
    await expect(acknowledgeAll(client, handles)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { action: 'AcknowledgeMessage', apiCode: 'InternalError' },
    });
    expect(handles.map((h) => h.acked)).toEqual([false, true, false]);
    const fatal = await api(4, () =>
      Promise.reject(Object.assign(new Error('gone'), { code: 'ResourceNotFound.Topic' })),
    );
    await expect(acknowledgeAll(fatal, [handle('x'), handle('y')])).rejects.toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
    });
    client.close();
    fatal.close();
  });

  it('makes a few promises per delivery, not a chain of async steps and a limiter group each', async () => {
    // Structural: 32 slots busy, so every ack waits; before, each delivery was an async step,
    // acknowledge()'s and acknowledgeMessage()'s frames, a Limiter group of one with its own
    // promises and an allSettled record (14 promises a delivery measured, docs/bench-profiles.md §28).
    const release: Array<() => void> = [];
    const client = await api(32, (action) => {
      if (action === 'Busy') return new Promise((resolve) => release.push(() => resolve({})));
      return Promise.resolve({});
    });
    for (let i = 0; i < 32; i++) void client.call('Busy', {});
    const handles = Array.from({ length: 64 }, (_, i) => handle(`m${i}`));
    let promises = 0;
    const stop = promiseHooks.onInit(() => {
      promises++;
    });
    const done = acknowledgeAll(client, handles);
    for (const free of release) free();
    await done;
    stop();
    expect(handles.every((h) => h.acked)).toBe(true);
    // Per delivery: the SDK's (stubbed) promise, the limiter's reaction and the error mapper's.
    expect(promises / handles.length).toBeLessThan(5);
    client.close();
  });
});
