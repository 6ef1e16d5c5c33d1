import { getEventListeners } from 'node:events';
import { promiseHooks } from 'node:v8';
import { CredentialProvider, type Outgoing } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { acknowledgeAll, type Handle, type Pack } from './acknowledge.js';
import { Api } from './client.js';
import { fromUrl } from './config.js';
import { qualifyTopic } from './naming.js';
import { PulsarHttpProducer } from './producer.js';

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** An Api over a fixed key, loaded, with the SDK's request() replaced by `request`. */
async function api(
  maxConcurrency: number,
  request: (action: string, params: object, options: { signal?: AbortSignal }) => Promise<unknown>,
) {
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
  // Loaded, so calls take the path of a fresh fixed credential (no lookup, one reaction).
  await credentials.get();
  const made = new Api(config, credentials);
  (made.sdk as unknown as { request: typeof request }).request = request;
  return made;
}

/** A request the test answers by hand. */
function pending() {
  let answer!: (value: unknown) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<unknown>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { promise, answer, fail };
}

/** An Api whose requests the test answers by hand, in `calls`, with the signal each was given. */
async function signalled(maxConcurrency: number) {
  const calls: Array<ReturnType<typeof pending> & { signal: AbortSignal | undefined }> = [];
  const client = await api(maxConcurrency, (_action, _params, options) => {
    const call = { ...pending(), signal: options.signal };
    calls.push(call);
    return call.promise;
  });
  return { calls, client };
}

/** An Api with maxConcurrency 1 whose requests the test answers by hand, in `calls`. */
async function oneSlot() {
  const calls: Array<ReturnType<typeof pending>> = [];
  const client = await api(1, () => {
    const call = pending();
    calls.push(call);
    return call.promise;
  });
  return { calls, client };
}

describe('Api.call with a fresh fixed credential', () => {
  it('counts the call against maxConcurrency until it ends, and answers its value as is', async () => {
    const { calls, client } = await oneSlot();
    const first = client.call('SendMessages', { n: 1 });
    const second = client.call('SendMessages', { n: 2 });
    // One slot: the second waits for the first.
    expect(calls).toHaveLength(1);
    const reply = { MessageId: 'm1' };
    calls[0]!.answer(reply);
    await expect(first).resolves.toBe(reply);
    expect(calls).toHaveLength(2);
    calls[1]!.answer({ MessageId: 'm2' });
    await expect(second).resolves.toEqual({ MessageId: 'm2' });
    client.close();
  });

  it('maps a failure to a SwitchyardError and frees the slot for the next call', async () => {
    const { calls, client } = await oneSlot();
    const failed = client.call('SendMessages', {});
    const next = client.call('ReceiveMessage', {});
    expect(calls).toHaveLength(1);
    calls[0]!.fail(Object.assign(new Error('busy'), { code: 'InternalError', requestId: 'r-1' }));
    await expect(failed).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      details: { action: 'SendMessages', apiCode: 'InternalError', requestId: 'r-1' },
    });
    expect(calls).toHaveLength(2);
    calls[1]!.fail(Object.assign(new Error('gone'), { code: 'ResourceNotFound.Topic' }));
    // The second action's failure names its own action.
    await expect(next).rejects.toMatchObject({ code: 'NOT_FOUND', details: { action: 'ReceiveMessage' } });
    // Both slots given back: a third call starts at once.
    void client.call('SendMessages', {});
    expect(calls).toHaveLength(3);
    calls[2]!.answer({});
    client.close();
  });
});

describe('Api requests under a shared signal (RequestSignals)', () => {
  it('give the SDK a signal of their own while others are in flight, one listener on the shared one', async () => {
    const { client, calls } = await signalled(2);
    const shared = new AbortController();
    // The first is alone in flight: it takes the shared signal as it is (no listener to keep).
    const first = client.call('SendMessages', {}, shared.signal);
    // The second takes the other free slot (call's fast path), the third waits in the limiter.
    const second = client.call('SendMessages', {}, shared.signal);
    const third = client.call('SendMessages', {}, shared.signal);
    calls[0]!.answer({ MessageId: 'm1' });
    await expect(first).resolves.toEqual({ MessageId: 'm1' });
    expect(calls).toHaveLength(3);
    const signals = calls.map((c) => c.signal);
    expect(signals[0]).toBe(shared.signal);
    expect(signals[1]).not.toBe(shared.signal);
    expect(signals[2]).not.toBe(shared.signal);
    expect(signals[1]).not.toBe(signals[2]);
    // node-fetch adds its abort listener to a request's own signal; the shared one has the relay's.
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    const reason = new Error('deadline');
    shared.abort(reason);
    // Those in flight abort with the shared reason.
    expect(signals[1]!.aborted && signals[2]!.aborted).toBe(true);
    expect(signals[1]!.reason).toBe(reason);
    expect(signals[2]!.reason).toBe(reason);
    calls[1]!.fail(Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' }));
    calls[2]!.fail(Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' }));
    await expect(second).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(third).rejects.toMatchObject({ code: 'CLOSED' });
    client.close();
  });

  it('drops each settled request from the shared signal’s set, answered or failed', async () => {
    const { client, calls } = await signalled(3);
    const shared = new AbortController();
    const first = client.call('SendMessages', {}, shared.signal);
    const second = client.call('SendMessages', {}, shared.signal);
    const third = client.call('SendMessages', {}, shared.signal);
    calls[1]!.fail(Object.assign(new Error('busy'), { code: 'InternalError' }));
    await expect(second).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    calls[2]!.answer({});
    await third;
    shared.abort(new Error('late'));
    // Settled before the abort: their signals are left alone.
    expect(calls[1]!.signal?.aborted).toBe(false);
    expect(calls[2]!.signal?.aborted).toBe(false);
    calls[0]!.answer({});
    await first;
    client.close();
  });

  it('pipelined (callEach): each request its own signal, dropped when it settles, failures mapped, one reaction each', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const hold: Array<() => void> = [];
    const client = await api(32, (_action, params, options) => {
      seen.push(options.signal);
      const n = (params as { n: number }).n;
      if (n < 0) return new Promise((resolve) => hold.push(() => resolve({})));
      return n % 16 === 5
        ? Promise.reject(Object.assign(new Error('busy'), { code: 'InternalError' }))
        : Promise.resolve({ n });
    });
    const shared = new AbortController();
    // Two requests held in flight: the batch's are pipelined beside others, not alone.
    void client.call('SendMessages', { n: -1 }, shared.signal);
    void client.call('SendMessages', { n: -1 }, shared.signal);
    seen.length = 0;
    let promises = 0;
    const stop = promiseHooks.onInit(() => {
      promises++;
    });
    const outcomes = await client.callEach(64, 'SendBatchMessages', (i) => ({ n: i }), shared.signal);
    stop();
    expect(outcomes.filter((o) => o instanceof Error)).toHaveLength(4);
    expect(outcomes[5]).toMatchObject({ code: 'UNAVAILABLE', details: { action: 'SendBatchMessages' } });
    expect(outcomes[6]).toEqual({ n: 6 });
    expect(seen.every((s) => s !== undefined && s !== shared.signal)).toBe(true);
    expect(new Set(seen).size).toBe(64);
    // Settled before the abort: their signals are left alone.
    shared.abort(new Error('late'));
    expect(seen.some((s) => s?.aborted)).toBe(false);
    // Per request: the SDK's (stubbed) promise, one reaction that closes its signal and maps a
    // failure, and the limiter's; one reaction more each before (docs/bench-profiles.md §28).
    expect(promises / 64).toBeLessThan(3.5);
    for (const free of hold) free();
    client.close();
  });

  it('passes no signal when the call has none', async () => {
    const { client, calls } = await signalled(1);
    const call = client.call('SendMessages', {});
    expect(calls[0]!.signal).toBeUndefined();
    calls[0]!.answer({});
    await call;
    client.close();
  });
});

describe('a lone send: Api.startAlone and the producer’s one reaction', () => {
  it('hands out the SDK’s own promise with a slot taken, and nothing while no slot is free', async () => {
    const { calls, client } = await oneSlot();
    const started = client.startAlone('SendMessages', { n: 1 }, undefined);
    expect(started).toBe(calls[0]!.promise);
    // The one slot is taken: neither another start nor a call goes out until it is given back.
    expect(client.startAlone('SendMessages', { n: 2 }, undefined)).toBeUndefined();
    const waiting = client.call('SendMessages', { n: 3 });
    expect(calls).toHaveLength(1);
    calls[0]!.answer({ MessageId: 'm1' });
    await started;
    client.release();
    expect(calls).toHaveLength(2);
    calls[1]!.answer({ MessageId: 'm3' });
    await expect(waiting).resolves.toEqual({ MessageId: 'm3' });
    client.close();
  });

  it('leaves a request with a neighbour in flight under the same signal to call() (a signal of its own)', async () => {
    const { calls, client } = await signalled(2);
    const shared = new AbortController();
    const first = client.startAlone('SendMessages', {}, shared.signal);
    expect(calls[0]!.signal).toBe(shared.signal);
    expect(client.startAlone('SendMessages', {}, shared.signal)).toBeUndefined();
    // Without a signal there is no listener to keep: it may go out beside the first.
    const plain = client.startAlone('SendMessages', {}, undefined);
    expect(plain).toBe(calls[1]!.promise);
    calls[0]!.answer({});
    calls[1]!.answer({});
    await Promise.all([first, plain]);
    client.release();
    client.release();
    client.close();
  });

  it('gives the receipt or the mapped error as the batch’s result and frees the slot either way', async () => {
    const { calls, client } = await oneSlot();
    const topic = qualifyTopic('t', 'c', 'default');
    const producer = new PulsarHttpProducer(client, topic, 'raw', undefined, 1);
    const message = { id: 'own-id', text: 'hello', bodyBytes: 5 } as Outgoing;
    const answered = producer.sendBatch([message]);
    calls[0]!.answer({ MessageId: '' });
    // No MessageId from the API: the message's own id is its receipt.
    await expect(answered).resolves.toEqual([{ messageId: 'own-id' }]);
    const failed = producer.sendBatch([message]);
    // The slot was given back: the second send went out at once.
    expect(calls).toHaveLength(2);
    calls[1]!.fail(Object.assign(new Error('busy'), { code: 'InternalError', requestId: 'r-2' }));
    const [error] = await failed;
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      details: { action: 'SendMessages', requestId: 'r-2' },
    });
    const third = producer.sendBatch([message]);
    expect(calls).toHaveLength(3);
    calls[2]!.answer({ ErrorMsg: 'topic is full' });
    await expect(third).resolves.toMatchObject([
      { code: 'UNAVAILABLE', details: { errorMsg: 'topic is full' } },
    ]);
    client.close();
  });
});

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
