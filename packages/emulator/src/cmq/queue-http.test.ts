import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CmqTestServer, startCmqTestServer } from '../../test-kit/cmq.js';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { within } from '../../test-kit/within.js';

const ERROR_SHAPE = {
  code: expect.any(Number),
  message: expect.stringMatching(/^\(\d+\)/),
  requestId: expect.any(String),
};

describe('CMQ queue actions over HTTP', () => {
  let t: CmqTestServer;
  beforeAll(async () => {
    t = await startCmqTestServer();
  });
  afterAll(() => t.close());
  const waitForPoll = (queueName: string) =>
    vi.waitFor(() => expect(t.engine.pendingPolls(queueName)).toBe(1), { timeout: 10_000 });

  it('CreateQueue returns a queueId; names are unique case-insensitively and validated', async () => {
    const created = await t.client.ok('CreateQueue', {
      queueName: 'orders',
      visibilityTimeout: 30,
      pollingWaitSeconds: 0,
    });
    expect(created.queueId).toMatch(/^queue-/);
    expect(created).toMatchObject({ code: 0, message: '' });
    expect(await t.client.call('CreateQueue', { queueName: 'ORDERS' })).toMatchObject({
      ...ERROR_SHAPE,
      code: 4460,
    });
    expect(await t.client.call('CreateQueue', { queueName: '9bad' })).toMatchObject({
      code: 4000,
      message: '(10020)queue name format error',
    });
    expect(await t.client.call('CreateQueue', { queueName: 'x', visibilityTimeout: 0 })).toMatchObject({
      code: 4000,
      message: '(10350)parameter visibilityTimeout value or length is out of range',
    });
    expect(await t.client.call('CreateQueue', { queueName: 'x', maxMsgSize: 'big' })).toMatchObject({
      code: 4000,
      message: '(10360)parameter maxMsgSize error type',
    });
    expect(await t.client.call('CreateQueue', {})).toMatchObject({
      code: 4000,
      message: '(10390)lacked of required parameter queueName',
    });
  });

  it('ListQueue filters, pages and counts', async () => {
    for (const n of ['list-a', 'list-b', 'list-c']) await t.client.ok('CreateQueue', { queueName: n });
    const page = await t.client.ok('ListQueue', { searchWord: 'list-', offset: 1, limit: 1 });
    expect(page.totalCount).toBe(3);
    expect(page.queueList).toEqual([{ queueId: expect.stringMatching(/^queue-/), queueName: 'list-b' }]);
    expect(await t.client.call('ListQueue', { limit: -1 })).toMatchObject({ code: 4000 });
  });

  it('GetQueueAttributes returns every field the SDKs read, both rewindMsgNum spellings', async () => {
    await t.client.ok('CreateQueue', { queueName: 'attrs', maxMsgSize: 2048 });
    const a = await t.client.ok('GetQueueAttributes', { queueName: 'attrs' });
    for (const f of [
      'maxMsgHeapNum',
      'pollingWaitSeconds',
      'visibilityTimeout',
      'maxMsgSize',
      'msgRetentionSeconds',
      'createTime',
      'lastModifyTime',
      'activeMsgNum',
      'inactiveMsgNum',
      'rewindSeconds',
      'rewindMsgNum',
      'rewindmsgNum',
      'minMsgTime',
      'delayMsgNum',
    ]) {
      expect(typeof a[f], f).toBe('number');
    }
    expect(a).toMatchObject({
      maxMsgSize: 2048,
      visibilityTimeout: 30,
      msgRetentionSeconds: 345600,
      queueName: 'attrs',
    });
    expect(await t.client.call('GetQueueAttributes', { queueName: 'nope' })).toMatchObject({
      code: 4440,
      message: '(10100)queue is not existed, or deleted',
    });
  });

  it('SetQueueAttributes changes settings and echoes them', async () => {
    await t.client.ok('CreateQueue', { queueName: 'settable' });
    const r = await t.client.ok('SetQueueAttributes', {
      queueName: 'settable',
      visibilityTimeout: 99,
      maxMsgSize: 4096,
    });
    expect(r).toMatchObject({ visibilityTimeout: 99, maxMsgSize: 4096 });
    expect((await t.client.ok('GetQueueAttributes', { queueName: 'settable' })).visibilityTimeout).toBe(99);
    expect(
      await t.client.call('SetQueueAttributes', { queueName: 'settable', pollingWaitSeconds: 31 }),
    ).toMatchObject({
      code: 4000,
    });
  });

  it('DeleteQueue removes the queue', async () => {
    await t.client.ok('CreateQueue', { queueName: 'doomed' });
    await t.client.ok('DeleteQueue', { queueName: 'doomed' });
    expect((await t.client.call('DeleteQueue', { queueName: 'doomed' })).code).toBe(4440);
    expect((await t.client.call('SendMessage', { queueName: 'doomed', msgBody: 'x' })).code).toBe(4440);
  });

  it('SendMessage / ReceiveMessage / DeleteMessage round trip with the SDK field types', async () => {
    await t.client.ok('CreateQueue', { queueName: 'rt' });
    const sent = await t.client.ok('SendMessage', {
      queueName: 'rt',
      msgBody: 'héllo & bye',
      delaySeconds: 0,
    });
    expect(typeof sent.msgId).toBe('string');
    const got = await t.client.ok('ReceiveMessage', { queueName: 'rt', pollingWaitSeconds: 0 });
    expect(got).toMatchObject({
      msgBody: 'héllo & bye',
      msgId: sent.msgId,
      receiptHandle: expect.stringMatching(/^[a-zA-Z\d%#:_-]{1,256}$/),
      dequeueCount: 1,
    });
    for (const f of ['enqueueTime', 'firstDequeueTime', 'nextVisibleTime'])
      expect(typeof got[f]).toBe('number');
    expect(got.nextVisibleTime as number).toBeGreaterThanOrEqual((got.enqueueTime as number) + 29);
    await t.client.ok('DeleteMessage', { queueName: 'rt', receiptHandle: got.receiptHandle as string });
    expect(
      await t.client.call('DeleteMessage', { queueName: 'rt', receiptHandle: got.receiptHandle as string }),
    ).toMatchObject({
      code: 4430,
      message: '(10260)receipt handle is invalid',
    });
    expect(
      await t.client.call('DeleteMessage', { queueName: 'rt', receiptHandle: 'bad handle!' }),
    ).toMatchObject({
      code: 4000,
      message: '(10470)receiptHandle error',
    });
    expect(await t.client.call('ReceiveMessage', { queueName: 'rt', pollingWaitSeconds: 0 })).toMatchObject({
      code: 7000,
      message: '(10200)no message',
    });
  });

  it('SendMessage validates the body', async () => {
    await t.client.ok('CreateQueue', { queueName: 'small', maxMsgSize: 1024 });
    expect(await t.client.call('SendMessage', { queueName: 'small', msgBody: '' })).toMatchObject({
      code: 4000,
      message: "(10120)message body can't be empty",
    });
    expect(
      await t.client.call('SendMessage', { queueName: 'small', msgBody: 'x'.repeat(1025) }),
    ).toMatchObject({
      code: 4400,
      message: '(10230)exceed maximum message size',
    });
    expect(await t.client.call('SendMessage', { queueName: 'small' })).toMatchObject({
      code: 4000,
      message: '(10390)lacked of required parameter msgBody',
    });
    expect(
      await t.client.call('SendMessage', { queueName: 'small', msgBody: 'x', delaySeconds: -1 }),
    ).toMatchObject({
      code: 4000,
      message: '(10350)parameter delaySeconds value or length is out of range',
    });
  });

  it('maxMsgHeapNum caps the queue with 4410', async () => {
    await t.client.ok('CreateQueue', { queueName: 'heap1', maxMsgHeapNum: 1 });
    await t.client.ok('SendMessage', { queueName: 'heap1', msgBody: 'a' });
    expect(await t.client.call('SendMessage', { queueName: 'heap1', msgBody: 'b' })).toMatchObject({
      code: 4410,
      message: '(10240)reach maximum retention number of message',
    });
  });

  it('BatchSendMessage accepts 0- and 1-based lists and rejects bad ones', async () => {
    await t.client.ok('CreateQueue', { queueName: 'batch' });
    const one = await t.client.ok('BatchSendMessage', { queueName: 'batch', msgBody: ['a', 'b', 'c'] });
    expect((one.msgList as Array<{ msgId: string }>).map((m) => typeof m.msgId)).toEqual([
      'string',
      'string',
      'string',
    ]);
    const zero = await t.client.call('BatchSendMessage', {
      queueName: 'batch',
      'msgBody.0': 'd',
      'msgBody.1': 'e',
    });
    expect((zero.msgList as unknown[]).length).toBe(2);
    expect(
      await t.client.call('BatchSendMessage', { queueName: 'batch', 'msgBody.1': 'a', 'msgBody.3': 'c' }),
    ).toMatchObject({
      code: 4000,
      message: '(10380)msgBody parameter is not consequent',
    });
    expect(
      await t.client.call('BatchSendMessage', {
        queueName: 'batch',
        msgBody: Array.from({ length: 17 }, (_, i) => `m${i}`),
      }),
    ).toMatchObject({ code: 4000, message: '(10370)msgBody parameter batch size is out of range' });
    expect(await t.client.call('BatchSendMessage', { queueName: 'batch', 'msgBody.x': 'a' })).toMatchObject({
      code: 4000,
      message: '(10310)parameter msgBody.x key format error',
    });
    expect((await t.client.call('BatchSendMessage', { queueName: 'batch' })).code).toBe(4000);

    const got = await t.client.ok('BatchReceiveMessage', {
      queueName: 'batch',
      numOfMsg: 16,
      pollingWaitSeconds: 1,
    });
    const list = got.msgInfoList as Array<Record<string, unknown>>;
    expect(list.map((m) => m.msgBody)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect((await t.client.call('BatchReceiveMessage', { queueName: 'batch', numOfMsg: 17 })).code).toBe(
      4000,
    );
    expect(await t.client.call('BatchReceiveMessage', { queueName: 'batch' })).toMatchObject({
      code: 4000,
      message: '(10390)lacked of required parameter numOfMsg',
    });

    const handles = list.map((m) => m.receiptHandle as string);
    await t.client.ok('BatchDeleteMessage', { queueName: 'batch', receiptHandle: handles.slice(0, 2) });
    const partial = await t.client.call('BatchDeleteMessage', {
      queueName: 'batch',
      receiptHandle: [handles[0]!, handles[2]!, 'bad handle'],
    });
    expect(partial).toMatchObject({ code: 6010, message: '(10150)delete message partially failed' });
    expect(partial.errorList).toEqual([
      { receiptHandle: handles[0], code: 4430, message: '(10260)receipt handle is invalid' },
      { receiptHandle: 'bad handle', code: 4000, message: '(10470)receiptHandle error' },
    ]);
    expect((await t.client.ok('GetQueueAttributes', { queueName: 'batch' })).inactiveMsgNum).toBe(2);
  });

  it('BatchSendMessage rejects a batch over 1 MB in total with 4470', async () => {
    await t.client.ok('CreateQueue', { queueName: 'bigbatch', maxMsgSize: 1_048_576 });
    const body = 'x'.repeat(270_000);
    expect(
      await t.client.call('BatchSendMessage', { queueName: 'bigbatch', msgBody: [body, body, body, body] }),
    ).toMatchObject({ code: 4470, message: '(10300)total message size exceed 1MB' });
  });

  it('a body over the server cap gets the 10420 reply, not a crash', async () => {
    await t.client.ok('CreateQueue', { queueName: 'huge' });
    const reply = await t.client.call('SendMessage', { queueName: 'huge', msgBody: 'y'.repeat(1_200_000) });
    expect(reply).toMatchObject({
      code: 4000,
      message: '(10420)cannot parse body, or request size is more than 1MB',
    });
    await t.client.ok('ListQueue');
  });

  it('dispatches actions case-insensitively; unknown actions and methods are rejected', async () => {
    await t.client.ok('CreateQueue', { queueName: 'ci' });
    await t.client.ok('sendmessage', { queueName: 'ci', msgBody: 'x' });
    // Unknown parameters (UserpollingWaitSeconds, Region, ...) are signed but otherwise ignored.
    const listed = await t.client.ok('ListQueue', {
      clientRequestId: 'req-7',
      UserpollingWaitSeconds: 5,
      Region: 'gz',
    });
    expect(listed.clientRequestId).toBe('req-7');
    expect(await t.client.call('Frobnicate')).toMatchObject({
      code: 4000,
      message: '(10280)action is not existed',
    });
    const put = await fetch(`${t.server.url}/v2/index.php`, { method: 'PUT', body: 'Action=ListQueue' });
    expect(await put.json()).toMatchObject({
      code: 4000,
      message: '(10410)unexpected http PUT only GET or POST is supported',
    });
  });

  it('long poll wakes as soon as a message arrives', async () => {
    await t.client.ok('CreateQueue', { queueName: 'lp' });
    const waiting = t.client.call('ReceiveMessage', { queueName: 'lp', pollingWaitSeconds: 30 });
    await waitForPoll('lp');
    await t.client.ok('SendMessage', { queueName: 'lp', msgBody: 'wake' });
    // Unwoken, the poll would run its 30 s and answer 7000.
    expect(await within(waiting, 10_000, 'the woken poll')).toMatchObject({ code: 0, msgBody: 'wake' });
  });

  it('long poll waits by the param, else by the queue attribute; an empty one answers 7000', async () => {
    await t.client.ok('CreateQueue', { queueName: 'lp-empty', pollingWaitSeconds: 30 });
    // The param's 1 s wins over the queue's 30 s.
    const byParam = t.client.call('ReceiveMessage', { queueName: 'lp-empty', pollingWaitSeconds: 1 });
    expect((await within(byParam, 15_000, 'a 1 s poll')).code).toBe(7000);
    const byAttribute = t.client.call('BatchReceiveMessage', { queueName: 'lp-empty', numOfMsg: 4 });
    await waitForPoll('lp-empty');
    await t.client.ok('SendMessage', { queueName: 'lp-empty', msgBody: 'waited for' });
    expect(await byAttribute).toMatchObject({ code: 0, msgInfoList: [{ msgBody: 'waited for' }] });
    expect(
      (await t.client.call('ReceiveMessage', { queueName: 'lp-empty', pollingWaitSeconds: 31 })).code,
    ).toBe(4000);
  });

  it('a long poll abandoned by its client takes no message', async () => {
    await t.client.ok('CreateQueue', { queueName: 'lp-gone' });
    const abort = new AbortController();
    const abandoned = t.client.call(
      'ReceiveMessage',
      { queueName: 'lp-gone', pollingWaitSeconds: 10 },
      { signal: abort.signal },
    );
    await waitForPoll('lp-gone');
    abort.abort();
    await expect(abandoned).rejects.toThrow();
    // The server notices the client left when the poll ends, not when the client's abort returns.
    await vi.waitFor(() => expect(t.engine.pendingPolls('lp-gone')).toBe(0), { timeout: 10_000 });
    await t.client.ok('SendMessage', { queueName: 'lp-gone', msgBody: 'kept' });
    expect(
      await t.client.ok('ReceiveMessage', { queueName: 'lp-gone', pollingWaitSeconds: 0 }),
    ).toMatchObject({
      msgBody: 'kept',
      dequeueCount: 1,
    });
  });
});

describe('CMQ time-based semantics (manual clock)', () => {
  let t: CmqTestServer;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock();
    t = await startCmqTestServer({ clock });
  });
  afterAll(() => t.close());
  const waitForPoll = (queueName: string) =>
    vi.waitFor(() => expect(t.engine.pendingPolls(queueName)).toBe(1), { timeout: 10_000 });

  it('visibility timeout hides a message, then makes it visible again with a new handle', async () => {
    await t.client.ok('CreateQueue', { queueName: 'vis', visibilityTimeout: 5 });
    await t.client.ok('SendMessage', { queueName: 'vis', msgBody: 'm' });
    const first = await t.client.ok('ReceiveMessage', { queueName: 'vis', pollingWaitSeconds: 0 });
    expect(first.nextVisibleTime).toBe(Math.floor(clock.now() / 1000) + 5);
    expect((await t.client.call('ReceiveMessage', { queueName: 'vis', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    expect(await t.client.ok('GetQueueAttributes', { queueName: 'vis' })).toMatchObject({
      activeMsgNum: 0,
      inactiveMsgNum: 1,
    });
    clock.advance(5000);
    const second = await t.client.ok('ReceiveMessage', { queueName: 'vis', pollingWaitSeconds: 0 });
    expect(second).toMatchObject({
      msgId: first.msgId,
      dequeueCount: 2,
      firstDequeueTime: first.firstDequeueTime,
    });
    expect(second.receiptHandle).not.toBe(first.receiptHandle);
    expect(
      (
        await t.client.call('DeleteMessage', {
          queueName: 'vis',
          receiptHandle: first.receiptHandle as string,
        })
      ).code,
    ).toBe(4430);
    clock.advance(5000);
    // The handle expired with the visibility window.
    expect(
      (
        await t.client.call('DeleteMessage', {
          queueName: 'vis',
          receiptHandle: second.receiptHandle as string,
        })
      ).code,
    ).toBe(4430);
  });

  it('delaySeconds holds a message back', async () => {
    await t.client.ok('CreateQueue', { queueName: 'delay' });
    await t.client.ok('SendMessage', { queueName: 'delay', msgBody: 'later', delaySeconds: 10 });
    expect((await t.client.call('ReceiveMessage', { queueName: 'delay', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    expect((await t.client.ok('GetQueueAttributes', { queueName: 'delay' })).delayMsgNum).toBe(1);
    clock.advance(9999);
    expect((await t.client.call('ReceiveMessage', { queueName: 'delay', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    clock.advance(1);
    expect((await t.client.ok('ReceiveMessage', { queueName: 'delay', pollingWaitSeconds: 0 })).msgBody).toBe(
      'later',
    );
  });

  it('msgRetentionSeconds drops old messages', async () => {
    await t.client.ok('CreateQueue', { queueName: 'retain', msgRetentionSeconds: 60 });
    await t.client.ok('SendMessage', { queueName: 'retain', msgBody: 'old' });
    clock.advance(60_000);
    expect((await t.client.call('ReceiveMessage', { queueName: 'retain', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    expect((await t.client.ok('GetQueueAttributes', { queueName: 'retain' })).activeMsgNum).toBe(0);
  });

  it('dead-letters by max receive count', async () => {
    await t.client.ok('CreateQueue', { queueName: 'dlq1' });
    await t.client.ok('CreateQueue', {
      queueName: 'src1',
      visibilityTimeout: 1,
      deadLetterPolicy: JSON.stringify({ deadLetterQueue: 'dlq1', policy: 0, maxReceiveCount: 2 }),
    });
    const sent = await t.client.ok('SendMessage', { queueName: 'src1', msgBody: 'poison' });
    for (let i = 0; i < 2; i++) {
      expect(
        (await t.client.ok('ReceiveMessage', { queueName: 'src1', pollingWaitSeconds: 0 })).dequeueCount,
      ).toBe(i + 1);
      clock.advance(1000);
    }
    expect((await t.client.call('ReceiveMessage', { queueName: 'src1', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    expect(await t.client.ok('ReceiveMessage', { queueName: 'dlq1', pollingWaitSeconds: 0 })).toMatchObject({
      msgBody: 'poison',
      msgId: sent.msgId,
      dequeueCount: 1,
    });
    const attrs = await t.client.ok('GetQueueAttributes', { queueName: 'src1' });
    expect(attrs.deadLetterPolicy).toEqual({ deadLetterQueue: 'dlq1', policy: 0, maxReceiveCount: 2 });
  });

  it('dead-letters by time to live', async () => {
    await t.client.ok('CreateQueue', { queueName: 'dlq2' });
    await t.client.ok('CreateQueue', { queueName: 'src2' });
    await t.client.ok('SetQueueAttributes', {
      queueName: 'src2',
      deadLetterPolicy: JSON.stringify({ deadLetterQueue: 'dlq2', policy: 1, maxTimeToLive: 300 }),
    });
    await t.client.ok('SendMessage', { queueName: 'src2', msgBody: 'stale' });
    await t.client.ok('SendMessage', { queueName: 'src2', msgBody: 'stale-unread', delaySeconds: 1 });
    expect((await t.client.ok('ReceiveMessage', { queueName: 'src2', pollingWaitSeconds: 0 })).msgBody).toBe(
      'stale',
    );
    clock.advance(300_000);
    expect((await t.client.call('ReceiveMessage', { queueName: 'src2', pollingWaitSeconds: 0 })).code).toBe(
      7000,
    );
    const got = await t.client.ok('BatchReceiveMessage', {
      queueName: 'dlq2',
      numOfMsg: 16,
      pollingWaitSeconds: 0,
    });
    expect((got.msgInfoList as Array<{ msgBody: string }>).map((m) => m.msgBody).sort()).toEqual([
      'stale',
      'stale-unread',
    ]);
    expect(
      await t.client.call('SetQueueAttributes', {
        queueName: 'src2',
        deadLetterPolicy: JSON.stringify({ deadLetterQueue: 'dlq2', policy: 1, maxTimeToLive: 10 }),
      }),
    ).toMatchObject({
      code: 4000,
      message: '(10350)parameter maxTimeToLive value or length is out of range',
    });
    expect(
      (await t.client.call('SetQueueAttributes', { queueName: 'src2', deadLetterPolicy: '{' })).code,
    ).toBe(4000);
  });

  it('RewindQueue replays deleted messages produced since the given time, in order', async () => {
    await t.client.ok('CreateQueue', { queueName: 'rw', rewindSeconds: 3600 });
    const start = Math.floor(clock.now() / 1000);
    await t.client.ok('BatchSendMessage', { queueName: 'rw', msgBody: ['r1', 'r2', 'r3'] });
    const got = await t.client.ok('BatchReceiveMessage', {
      queueName: 'rw',
      numOfMsg: 16,
      pollingWaitSeconds: 0,
    });
    await t.client.ok('BatchDeleteMessage', {
      queueName: 'rw',
      receiptHandle: (got.msgInfoList as Array<{ receiptHandle: string }>).map((m) => m.receiptHandle),
    });
    const attrs = await t.client.ok('GetQueueAttributes', { queueName: 'rw' });
    expect(attrs).toMatchObject({ rewindMsgNum: 3, rewindmsgNum: 3, activeMsgNum: 0 });
    clock.advance(10_000);
    await t.client.ok('RewindQueue', { queueName: 'rw', startConsumeTime: start });
    const again = await t.client.ok('BatchReceiveMessage', {
      queueName: 'rw',
      numOfMsg: 16,
      pollingWaitSeconds: 0,
    });
    expect((again.msgInfoList as Array<{ msgBody: string }>).map((m) => m.msgBody)).toEqual([
      'r1',
      'r2',
      'r3',
    ]);
    expect(
      await t.client.call('RewindQueue', { queueName: 'rw', startConsumeTime: start + 100 }),
    ).toMatchObject({
      code: 4000,
      message: '(10680)invalid rewind time',
    });
    await t.client.ok('CreateQueue', { queueName: 'norewind' });
    expect(
      await t.client.call('RewindQueue', { queueName: 'norewind', startConsumeTime: start }),
    ).toMatchObject({
      code: 6050,
      message: '(10670)queue can not be rewound',
    });
  });

  it('a long poll wakes when an in-flight message becomes visible again', async () => {
    await t.client.ok('CreateQueue', { queueName: 'lp-vis', visibilityTimeout: 1 });
    await t.client.ok('SendMessage', { queueName: 'lp-vis', msgBody: 'back' });
    await t.client.ok('ReceiveMessage', { queueName: 'lp-vis', pollingWaitSeconds: 0 });
    const waiting = t.client.call('ReceiveMessage', { queueName: 'lp-vis', pollingWaitSeconds: 30 });
    await waitForPoll('lp-vis');
    // The manual clock does not move by itself; the poll re-checks when its wake timer fires.
    clock.advance(1000);
    expect(await waiting).toMatchObject({ code: 0, msgBody: 'back', dequeueCount: 2 });
  });
});
