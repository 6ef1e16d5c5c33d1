import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CmqTestServer, startCmqTestServer } from '../../test-kit/cmq.js';
import { within } from '../../test-kit/within.js';
import { Faults } from '../faults/injector.js';

let t: CmqTestServer;
beforeEach(async () => {
  t = await startCmqTestServer({ faults: new Faults({ seed: 42 }) });
  await t.client.ok('CreateQueue', { queueName: 'q' });
});
afterEach(() => t.close());

const admin = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${t.server.url}${path}`, {
    method,
    ...(body !== undefined
      ? {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }
      : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
};

describe('fault injection over HTTP', () => {
  it('errorRate 1 replies with the protocol error envelope', async () => {
    t.faults.setRule({ protocol: 'cmq', action: 'SendMessage', errorRate: 1 });
    expect(await t.client.call('SendMessage', { queueName: 'q', msgBody: 'x' })).toMatchObject({
      code: 6000,
      message: '(10050)server internal error',
      requestId: expect.any(String),
    });
    await t.client.ok('ListQueue');
  });

  it('resetRate 1 drops the connection without a reply', async () => {
    t.faults.setRule({ protocol: 'cmq', action: 'ListQueue', resetRate: 1 });
    await expect(t.client.call('ListQueue')).rejects.toThrow();
    await t.client.ok('GetQueueAttributes', { queueName: 'q' });
  });

  it('hangRate 1 never answers until the client leaves, and stop() ends hangs', async () => {
    t.faults.setRule({ protocol: 'cmq', action: 'ListQueue', hangRate: 1 });
    const hangs = () => t.faults.stats()['cmq:ListQueue:hang'] ?? 0;
    const abort = new AbortController();
    const left = t.client.call('ListQueue', {}, { signal: abort.signal }).then(
      () => 'answered',
      () => 'left',
    );
    await vi.waitFor(() => expect(hangs()).toBe(1), { timeout: 10_000 });
    // The server is hanging on it; only the client's own abort ends the call.
    abort.abort();
    expect(await left).toBe('left');
    await t.client.ok('GetQueueAttributes', { queueName: 'q' });
    const hanging = t.client.call('ListQueue').then(
      () => 'answered',
      () => 'dropped',
    );
    await vi.waitFor(() => expect(hangs()).toBe(2), { timeout: 10_000 });
    // A hang lasts until the client leaves, so without stop() ending it this never settles.
    await within(t.close(), 10_000, 'close() with a hanging request');
    expect(await within(hanging, 10_000, 'the hanging request')).toBe('dropped');
  });

  it('latencyMs holds a request before it is served: a client leaving meanwhile leaves nothing', async () => {
    // lostReplyRate marks the request's arrival: its decision is counted before the latency.
    t.faults.setRule({ protocol: 'cmq', action: 'SendMessage', latencyMs: 60_000, lostReplyRate: 1 });
    const abort = new AbortController();
    const delayed = t.client
      .call('SendMessage', { queueName: 'q', msgBody: 'late' }, { signal: abort.signal })
      .then(
        () => 'answered',
        () => 'left',
      );
    await vi.waitFor(() => expect(t.faults.stats()).toEqual({ 'cmq:SendMessage:lostReply': 1 }), {
      timeout: 10_000,
    });
    abort.abort();
    expect(await delayed).toBe('left');
    expect(t.engine.getQueueAttributes('q').activeMsgNum).toBe(0);
    t.faults.setRule({ protocol: 'cmq', action: 'SendMessage', latencyMs: 1 });
    await t.client.ok('SendMessage', { queueName: 'q', msgBody: 'soon' });
    expect(t.engine.getQueueAttributes('q').activeMsgNum).toBe(1);
  });

  it('an error rate gives the same sequence for the same seed', async () => {
    const rules = [{ protocol: 'cmq', action: 'ListQueue', errorRate: 0.5 }];
    t.faults.configure({ seed: 99, rules });
    const codes: number[] = [];
    for (let i = 0; i < 30; i++) codes.push((await t.client.call('ListQueue')).code);
    const expected = new Faults({ seed: 99, rules });
    expect(codes).toEqual(
      Array.from({ length: 30 }, () => (expected.decide('cmq', 'ListQueue').kind === 'error' ? 6000 : 0)),
    );
    expect(new Set(codes)).toEqual(new Set([0, 6000]));
  });
});

describe('admin endpoints', () => {
  it('GET, PUT, POST and DELETE /_emulator/faults', async () => {
    expect(await admin('GET', '/_emulator/faults')).toEqual({ status: 200, json: { seed: 42, rules: [] } });
    const put = await admin('PUT', '/_emulator/faults', {
      seed: 5,
      rules: [{ protocol: 'cmq', action: 'ListQueue', errorRate: 1 }],
    });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      seed: 5,
      rules: [{ protocol: 'cmq', action: 'ListQueue', errorRate: 1, resetRate: 0 }],
    });
    expect((await t.client.call('ListQueue')).code).toBe(6000);
    const post = await admin('POST', '/_emulator/faults', { rules: [{ protocol: '*', latencyMs: 1 }] });
    expect(post.json).toMatchObject({ seed: 5, rules: [{ protocol: '*', action: '*', latencyMs: 1 }] });
    expect(await admin('DELETE', '/_emulator/faults')).toEqual({ status: 200, json: { seed: 5, rules: [] } });
    await t.client.ok('ListQueue');
  });

  it('rejects a bad fault document with a 400 naming the field', async () => {
    expect(
      await admin('PUT', '/_emulator/faults', { rules: [{ protocol: 'cmq', hangRate: 'often' }] }),
    ).toEqual({
      status: 400,
      json: { error: 'rules[0].hangRate: must be a number between 0 and 1', field: 'rules[0].hangRate' },
    });
    expect((await admin('PUT', '/_emulator/faults', '{oops')).json).toEqual({
      error: 'body: not valid JSON',
      field: 'body',
    });
    expect((await admin('PATCH', '/_emulator/faults')).status).toBe(405);
    expect((await admin('GET', '/_emulator/nothing')).status).toBe(404);
  });

  it('GET /_emulator/state shows the engine state', async () => {
    await t.client.ok('SendMessage', { queueName: 'q', msgBody: 'x' });
    const state = await admin('GET', '/_emulator/state');
    expect(state.status).toBe(200);
    expect(state.json).toMatchObject({ cmq: { queues: [{ queueName: 'q', activeMsgNum: 1 }], topics: [] } });
  });
});

describe('server lifecycle', () => {
  it('serves many requests on one keep-alive socket and stop() closes idle sockets at once', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = http.get(`${t.server.url}/_emulator/faults`, { agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
    for (let i = 0; i < 5; i++) expect(await get()).toBe(200);
    expect(sockets.size).toBe(1);
    // Without closing idle sockets, close() would wait out the 65 s keep-alive.
    await within(t.close(), 10_000, 'close() with an idle keep-alive socket');
    agent.destroy();
  });

  it('stop() ends a long poll', async () => {
    const poll = t.client.call('ReceiveMessage', { queueName: 'q', pollingWaitSeconds: 30 }).then(
      (r) => r.code,
      () => 'dropped',
    );
    await vi.waitFor(() => expect(t.engine.pendingPolls('q')).toBe(1), { timeout: 10_000 });
    // The poll would otherwise wait 30 s; the bound is far inside that.
    await within(t.close(), 10_000, 'close() with a pending long poll');
    expect([7000, 'dropped']).toContain(await within(poll, 10_000, 'the long poll'));
  });
});

describe('lost replies', () => {
  it('serve the request, then drop the connection: the message is stored though the client saw a failure', async () => {
    const t = await startCmqTestServer();
    try {
      await t.client.ok('CreateQueue', { queueName: 'lost-reply' });
      t.faults.setRule({ protocol: 'cmq', action: 'SendMessage', lostReplyRate: 1 });
      await expect(
        t.client.call('SendMessage', { queueName: 'lost-reply', msgBody: 'took effect' }),
      ).rejects.toThrow();
      expect(t.engine.getQueueAttributes('lost-reply').activeMsgNum).toBe(1);
      expect(t.faults.stats()).toEqual({ 'cmq:SendMessage:lostReply': 1 });
    } finally {
      await t.close();
    }
  });
});
