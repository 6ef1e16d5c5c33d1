import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CmqTestServer, startCmqTestServer } from '../../test-kit/cmq.js';

describe('CMQ topics and subscriptions over HTTP', () => {
  let t: CmqTestServer;
  beforeAll(async () => {
    t = await startCmqTestServer({ engine: { pushRetryScale: 0.001 } });
  });
  afterAll(() => t.close());

  const bodiesIn = async (queueName: string): Promise<string[]> => {
    const r = await t.client.call('BatchReceiveMessage', { queueName, numOfMsg: 16, pollingWaitSeconds: 0 });
    if (r.code === 7000) return [];
    return (r.msgInfoList as Array<{ msgBody: string }>).map((m) => m.msgBody).sort();
  };

  it('CreateTopic / ListTopic / Get / SetTopicAttributes / DeleteTopic', async () => {
    const created = await t.client.ok('CreateTopic', { topicName: 'news', maxMsgSize: 65536, filterType: 1 });
    expect(created.topicId).toMatch(/^topic-/);
    expect(await t.client.call('CreateTopic', { topicName: 'NEWS' })).toMatchObject({
      code: 4460,
      message: '(10550)topic is already existed',
    });
    expect(await t.client.call('CreateTopic', { topicName: '_x' })).toMatchObject({
      code: 4000,
      message: '(10590)topic name format error',
    });
    const list = await t.client.ok('ListTopic', { searchWord: 'new' });
    expect(list).toMatchObject({
      totalCount: 1,
      topicList: [{ topicName: 'news', topicId: created.topicId }],
    });
    await t.client.ok('SetTopicAttributes', { topicName: 'news', maxMsgSize: 4096 });
    const attrs = await t.client.ok('GetTopicAttributes', { topicName: 'news' });
    expect(attrs).toMatchObject({ msgCount: 0, maxMsgSize: 4096, msgRetentionSeconds: 86400, filterType: 1 });
    for (const f of ['createTime', 'lastModifyTime']) expect(typeof attrs[f]).toBe('number');
    await t.client.ok('DeleteTopic', { topicName: 'news' });
    expect(await t.client.call('GetTopicAttributes', { topicName: 'news' })).toMatchObject({
      code: 4440,
      message: '(10600)topic is not existed, or deleted',
    });
  });

  it('Subscribe validates its parameters', async () => {
    await t.client.ok('CreateTopic', { topicName: 'val' });
    await t.client.ok('CreateQueue', { queueName: 'val-q' });
    const sub = (extra: Record<string, string | string[]>) =>
      t.client.call('Subscribe', {
        topicName: 'val',
        subscriptionName: 's1',
        protocol: 'queue',
        endpoint: 'val-q',
        notifyContentFormat: 'SIMPLIFIED',
        ...extra,
      });
    expect((await sub({ protocol: 'smtp' })).message).toBe('(10510)undefined protocol');
    expect((await sub({ notifyContentFormat: 'JSON' })).message).toBe(
      '(10640)notifyContentFormat of protocol queue must be SIMPLIFIED',
    );
    expect((await sub({ notifyContentFormat: 'XML' })).message).toBe(
      '(10530)undefined notify content format',
    );
    expect((await sub({ notifyStrategy: 'NEVER' })).message).toBe('(10520)undefined notify retry strategy');
    expect((await sub({ endpoint: 'no-such-queue' })).message).toBe('(10630)illegal endpoint');
    expect((await sub({ protocol: 'http', endpoint: 'ftp://x', notifyContentFormat: 'JSON' })).message).toBe(
      '(10500)endpoint format error',
    );
    expect(
      await sub({ protocol: 'http', endpoint: 'http://a b', notifyContentFormat: 'JSON' }),
    ).toMatchObject({
      code: 4510,
      message: '(10570)url can not contain blank characters',
    });
    expect((await sub({ filterTag: ['a', 'b', 'c', 'd', 'e', 'f'] })).message).toBe(
      '(10670)too many filterTag',
    );
    expect((await sub({ bindingKey: ['a', 'b', 'c', 'd', 'e', 'f'] })).message).toBe(
      '(10680)too many bindingKey',
    );
    expect((await sub({ subscriptionName: '1sub' })).message).toBe('(10580)subscription name format error');
    expect((await sub({})).code).toBe(0);
    expect(await sub({})).toMatchObject({ code: 4490, message: '(10470)subscription is already existed' });
    expect(await t.client.call('DeleteTopic', { topicName: 'val' })).toMatchObject({
      code: 4000,
      message: expect.stringMatching(/^\(10540\)/),
    });
  });

  it('subscription management: List, Get (both spellings), Set, ClearSubscriptionFilterTags, Unsubscribe', async () => {
    await t.client.ok('CreateTopic', { topicName: 'mgmt' });
    await t.client.ok('CreateQueue', { queueName: 'mgmt-q' });
    const s = await t.client.ok('Subscribe', {
      topicName: 'mgmt',
      subscriptionName: 'sub-a',
      protocol: 'queue',
      endpoint: 'mgmt-q',
      notifyContentFormat: 'SIMPLIFIED',
      filterTag: ['x', 'y'],
    });
    expect(typeof s.subscriptionId).toBe('string');
    const list = await t.client.ok('ListSubscriptionByTopic', { topicName: 'mgmt' });
    expect(list).toMatchObject({
      totalCount: 1,
      subscriptionList: [
        {
          subscriptionId: s.subscriptionId,
          subscriptionName: 'sub-a',
          protocol: 'queue',
          endpoint: 'mgmt-q',
        },
      ],
    });
    const attrs = await t.client.ok('GetSubscriptionAttributes', {
      topicName: 'mgmt',
      subscriptionName: 'sub-a',
    });
    expect(attrs).toMatchObject({
      protocol: 'queue',
      protocal: 'queue',
      endpoint: 'mgmt-q',
      notifyStrategy: 'EXPONENTIAL_DECAY_RETRY',
      notifyContentFormat: 'SIMPLIFIED',
      filterTag: ['x', 'y'],
      filterTags: ['x', 'y'],
      bindingKey: [],
      msgCount: 0,
    });
    await t.client.ok('SetSubscriptionAttributes', {
      topicName: 'mgmt',
      subscriptionName: 'sub-a',
      notifyStrategy: 'BACKOFF_RETRY',
      filterTag: ['z'],
    });
    expect(
      await t.client.ok('GetSubscriptionAttributes', { topicName: 'mgmt', subscriptionName: 'sub-a' }),
    ).toMatchObject({
      notifyStrategy: 'BACKOFF_RETRY',
      filterTags: ['z'],
    });
    // The Java SDK's misspelt action name must work too.
    await t.client.ok('ClearSUbscriptionFIlterTags', { topicName: 'mgmt', subscriptionName: 'sub-a' });
    expect(
      (await t.client.ok('GetSubscriptionAttributes', { topicName: 'mgmt', subscriptionName: 'sub-a' }))
        .filterTag,
    ).toEqual([]);
    await t.client.ok('Unsubscribe', { topicName: 'mgmt', subscriptionName: 'sub-a' });
    expect(
      await t.client.call('Unsubscribe', { topicName: 'mgmt', subscriptionName: 'sub-a' }),
    ).toMatchObject({ code: 4440 });
    expect(
      (await t.client.call('GetSubscriptionAttributes', { topicName: 'mgmt', subscriptionName: 'sub-a' }))
        .code,
    ).toBe(4440);
    await t.client.ok('DeleteTopic', { topicName: 'mgmt' });
  });

  it('tag filtering fans out per §7', async () => {
    await t.client.ok('CreateTopic', { topicName: 'tags' });
    for (const q of ['tag-q1', 'tag-q2']) await t.client.ok('CreateQueue', { queueName: q });
    expect(await t.client.call('PublishMessage', { topicName: 'tags', msgBody: 'lonely' })).toMatchObject({
      code: 6030,
      message: '(10650)topic has no subscription',
    });
    await t.client.ok('Subscribe', {
      topicName: 'tags',
      subscriptionName: 's1',
      protocol: 'queue',
      endpoint: 'tag-q1',
      notifyContentFormat: 'SIMPLIFIED',
      filterTag: ['system'],
    });
    await t.client.ok('Subscribe', {
      topicName: 'tags',
      subscriptionName: 's2',
      protocol: 'queue',
      endpoint: 'tag-q2',
      notifyContentFormat: 'SIMPLIFIED',
    });
    const p1 = await t.client.ok('PublishMessage', {
      topicName: 'tags',
      msgBody: 'untagged',
      routingKey: '',
    });
    expect(typeof p1.msgId).toBe('string');
    await t.client.ok('PublishMessage', {
      topicName: 'tags',
      msgBody: 'tagged',
      msgTag: ['system', 'other'],
    });
    const batch = await t.client.ok('BatchPublishMessage', {
      topicName: 'tags',
      msgBody: ['b1', 'b2'],
      msgTag: ['system'],
    });
    expect((batch.msgList as unknown[]).length).toBe(2);
    expect(await bodiesIn('tag-q1')).toEqual(['b1', 'b2', 'tagged']);
    expect(await bodiesIn('tag-q2')).toEqual(['b1', 'b2', 'tagged', 'untagged']);
    expect(
      (await t.client.ok('GetSubscriptionAttributes', { topicName: 'tags', subscriptionName: 's1' }))
        .msgCount,
    ).toBe(3);
    expect((await t.client.ok('GetTopicAttributes', { topicName: 'tags' })).msgCount).toBe(4);
    expect(
      (
        await t.client.call('PublishMessage', {
          topicName: 'tags',
          msgBody: 'x',
          msgTag: ['1', '2', '3', '4', '5', '6'],
        })
      ).message,
    ).toBe('(10720)too many msgTag');
    expect((await t.client.call('PublishMessage', { topicName: 'tags', msgBody: '' })).code).toBe(4000);
  });

  it('routing-key filtering with * and #', async () => {
    await t.client.ok('CreateTopic', { topicName: 'routes', filterType: 2 });
    for (const q of ['rk-exact', 'rk-star', 'rk-hash']) await t.client.ok('CreateQueue', { queueName: q });
    expect(
      (
        await t.client.call('Subscribe', {
          topicName: 'routes',
          subscriptionName: 'nokey',
          protocol: 'queue',
          endpoint: 'rk-exact',
          notifyContentFormat: 'SIMPLIFIED',
        })
      ).message,
    ).toBe('(10710)parameters lack of bindingKey');
    const subscribe = (name: string, queue: string, keys: string[]) =>
      t.client.ok('Subscribe', {
        topicName: 'routes',
        subscriptionName: name,
        protocol: 'queue',
        endpoint: queue,
        notifyContentFormat: 'SIMPLIFIED',
        bindingKey: keys,
      });
    await subscribe('exact', 'rk-exact', ['system.common']);
    await subscribe('star', 'rk-star', ['*.common']);
    await subscribe('hash', 'rk-hash', ['1.#.0', 'audit.#']);
    for (const rk of ['system.common', 'app.common', '1.0', '1.2.3.0', 'audit', 'x.y']) {
      const r = await t.client.call('PublishMessage', { topicName: 'routes', msgBody: rk, routingKey: rk });
      expect(r.code, rk).toBe(rk === 'x.y' ? 6030 : 0);
      if (rk === 'x.y')
        expect(r.message).toBe('(10730)no bindingKey or filterTag matches the routingKey or msgTag');
    }
    expect(await bodiesIn('rk-exact')).toEqual(['system.common']);
    expect(await bodiesIn('rk-star')).toEqual(['app.common', 'system.common']);
    expect(await bodiesIn('rk-hash')).toEqual(['1.0', '1.2.3.0', 'audit']);
    expect(
      await t.client.call('PublishMessage', { topicName: 'routes', msgBody: 'x', routingKey: '' }),
    ).toMatchObject({
      code: 4000,
      message: '(10700)lack of routingKey',
    });
    expect(
      (
        await t.client.call('PublishMessage', {
          topicName: 'routes',
          msgBody: 'x',
          routingKey: Array(17).fill('a').join('.'),
        })
      ).message,
    ).toBe('(10691)too many delimiters');
  });

  it('http push delivers JSON and SIMPLIFIED bodies and retries failures', async () => {
    const seen: Array<{ headers: http.IncomingHttpHeaders; body: string; url: string }> = [];
    let failuresLeft = 2;
    const sink = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, body, url: req.url ?? '' });
        if (req.url === '/flaky' && failuresLeft-- > 0) res.writeHead(500).end();
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
    try {
      await t.client.ok('CreateTopic', { topicName: 'push' });
      await t.client.ok('Subscribe', {
        topicName: 'push',
        subscriptionName: 'json',
        protocol: 'http',
        endpoint: `${base}/json`,
        notifyStrategy: 'BACKOFF_RETRY',
      });
      await t.client.ok('Subscribe', {
        topicName: 'push',
        subscriptionName: 'flaky',
        protocol: 'http',
        endpoint: `${base}/flaky`,
        notifyContentFormat: 'SIMPLIFIED',
      });
      const sent = await t.client.ok('PublishMessage', {
        topicName: 'push',
        msgBody: 'pushed',
        msgTag: ['t1', 't2'],
      });
      await vi.waitFor(
        () => {
          const urls = seen.map((s) => s.url);
          expect(urls.filter((u) => u === '/flaky').length, JSON.stringify(urls)).toBeGreaterThanOrEqual(3);
          expect(urls).toContain('/json');
        },
        { timeout: 15_000, interval: 10 },
      );
      const json = seen.find((s) => s.url === '/json')!;
      expect(JSON.parse(json.body)).toMatchObject({
        topicName: 'push',
        subscriptionName: 'json',
        msgId: sent.msgId,
        msgBody: 'pushed',
      });
      expect(json.headers).toMatchObject({
        'content-type': 'text/plain',
        'user-agent': 'Qcloud Notification Service Agent',
        'x-cmq-message-id': sent.msgId,
        'x-cmq-message-tag': 't1,t2',
      });
      const flaky = seen.filter((s) => s.url === '/flaky');
      expect(flaky.map((s) => s.body)).toEqual(['pushed', 'pushed', 'pushed']);
      const state = (await (await fetch(`${t.server.url}/_emulator/state`)).json()) as {
        cmq: {
          topics: Array<{
            topicName: string;
            subscriptions: Array<{ subscriptionName: string; push: unknown }>;
          }>;
        };
      };
      const subs = state.cmq.topics.find((x) => x.topicName === 'push')!.subscriptions;
      expect(subs.find((s) => s.subscriptionName === 'flaky')!.push).toEqual({
        delivered: 1,
        failedAttempts: 2,
        dropped: 0,
        pending: 0,
      });
    } finally {
      await new Promise((r) => sink.close(r));
    }
  });

  it('BACKOFF_RETRY gives up after 3 retries', async () => {
    let hits = 0;
    const sink = http.createServer((req, res) => {
      req.resume();
      hits++;
      res.writeHead(503).end();
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    try {
      await t.client.ok('CreateTopic', { topicName: 'giveup' });
      await t.client.ok('Subscribe', {
        topicName: 'giveup',
        subscriptionName: 'down',
        protocol: 'http',
        endpoint: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
        notifyStrategy: 'BACKOFF_RETRY',
      });
      await t.client.ok('PublishMessage', { topicName: 'giveup', msgBody: 'x' });
      const stats = () =>
        t.engine.inspect() as {
          topics: Array<{ topicName: string; subscriptions: Array<{ push: { dropped: number } }> }>;
        };
      await vi.waitFor(
        () =>
          expect(stats().topics.find((x) => x.topicName === 'giveup')!.subscriptions[0]!.push.dropped).toBe(
            1,
          ),
        { timeout: 15_000, interval: 10 },
      );
      expect(hits).toBe(4);
    } finally {
      await new Promise((r) => sink.close(r));
    }
  });
});
