// The service functions called directly: the status each validation gives, the shape of routes,
// assignments and Telemetry settings replies (what the real client needs, sheet §6).

import { describe, expect, it } from 'vitest';
import { RocketMqEngine } from './engine.js';
import { type CallContext, RocketMqService } from './service.js';

function service(extra: Partial<ConstructorParameters<typeof RocketMqService>[0]> = {}) {
  return new RocketMqService({
    engine: new RocketMqEngine(),
    credentials: [],
    // These calls carry no signature: auth has its own tests (auth.test.ts, auth-namespace.test.ts).
    allowAnonymous: true,
    advertised: () => ({ host: '127.0.0.1', port: 8081 }),
    longPolling: { minMs: 0, maxMs: 10 },
    maxBodyBytes: 16,
    ...extra,
  });
}

const ctx: CallContext = { metadata: {} };
const msg = (sp: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  topic: { name: 'T' },
  body: Buffer.from('x'),
  system_properties: { message_id: 'M1', message_type: 'NORMAL', ...sp },
  ...extra,
});
const sendCode = async (s: RocketMqService, m: unknown) =>
  ((await s.sendMessage({ messages: [m as never] }, ctx)).status as { code: string }).code;

describe('SendMessage validation', () => {
  it('answers the proxy status for each bad message', async () => {
    const s = service();
    expect(await sendCode(s, msg({}))).toBe('OK');
    expect(await sendCode(s, msg({}, { body: Buffer.alloc(0) }))).toBe('MESSAGE_BODY_EMPTY');
    expect(await sendCode(s, msg({}, { body: Buffer.alloc(17) }))).toBe('MESSAGE_BODY_TOO_LARGE');
    expect(await sendCode(s, msg({ message_id: '' }))).toBe('ILLEGAL_MESSAGE_ID');
    expect(await sendCode(s, msg({ tag: 'a|b' }))).toBe('ILLEGAL_MESSAGE_TAG');
    expect(await sendCode(s, msg({ keys: [' '] }))).toBe('ILLEGAL_MESSAGE_KEY');
    expect(await sendCode(s, msg({}, { user_properties: { UNIQ_KEY: 'x' } }))).toBe(
      'ILLEGAL_MESSAGE_PROPERTY_KEY',
    );
    expect(await sendCode(s, msg({ message_group: 'g' }))).toBe('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE');
    expect(await sendCode(s, msg({ message_type: 'FIFO' }))).toBe('ILLEGAL_MESSAGE_GROUP');
    expect(await sendCode(s, msg({ message_type: 'FIFO', message_group: 'g'.repeat(64) }))).toBe(
      'ILLEGAL_MESSAGE_GROUP',
    );
    expect(await sendCode(s, msg({ message_type: 'DELAY' }))).toBe('ILLEGAL_DELIVERY_TIME');
    const tooLate = { seconds: Math.floor(Date.now() / 1000) + 25 * 3600 };
    expect(await sendCode(s, msg({ message_type: 'DELAY', delivery_timestamp: tooLate }))).toBe(
      'ILLEGAL_DELIVERY_TIME',
    );
    expect(await sendCode(s, msg({}, { topic: { name: 'bad topic' } }))).toBe('ILLEGAL_TOPIC');
    expect(await sendCode(s, msg({ message_type: 'LITE' }))).toBe('UNSUPPORTED');
  });

  it('answers one entry per message with MULTIPLE_RESULTS when they differ', async () => {
    const s = service();
    const reply = await s.sendMessage({ messages: [msg({}), msg({ message_id: '' })] as never }, ctx);
    expect(reply.status).toMatchObject({ code: 'MULTIPLE_RESULTS' });
    expect(reply.entries).toMatchObject([
      { status: { code: 'OK' }, message_id: 'M1', offset: '0' },
      { status: { code: 'ILLEGAL_MESSAGE_ID' } },
    ]);
  });
});

describe('ReceiveMessage', () => {
  const receive = (s: RocketMqService, extra: Record<string, unknown> = {}, c: CallContext = ctx) =>
    s.receiveMessage(
      {
        group: { name: 'G' },
        message_queue: { topic: { name: 'T' } },
        batch_size: 1,
        invisible_duration: { seconds: 10 },
        ...extra,
      },
      c,
    );

  it('nothing to deliver: MESSAGE_NOT_FOUND then a delivery timestamp', async () => {
    const items = await receive(service());
    expect(items).toMatchObject([{ status: { code: 'MESSAGE_NOT_FOUND' } }, { delivery_timestamp: {} }]);
  });

  it('rejects a short invisible time, a bad batch and a deadline shorter than the minimum poll', async () => {
    const s = service({ longPolling: { minMs: 5000, maxMs: 20_000 } });
    expect(await receive(s, { invisible_duration: { seconds: 9 } })).toMatchObject([
      { status: { code: 'ILLEGAL_INVISIBLE_TIME' } },
    ]);
    expect(await receive(s, { batch_size: 0 })).toMatchObject([{ status: { code: 'BAD_REQUEST' } }]);
    expect(await receive(s, {}, { metadata: {}, deadline: Date.now() + 4000 })).toMatchObject([
      { status: { code: 'BAD_REQUEST' } },
    ]);
  });

  it('delivers with digest, handle, attempt and the topic as the client named it', async () => {
    const s = service();
    // Groups see what is stored after they exist.
    s.engine.createGroup('ns%G');
    await s.sendMessage({ messages: [msg({ tag: 'A' })] as never }, { metadata: { 'x-mq-namespace': 'ns' } });
    const items = await receive(s, {}, { metadata: { 'x-mq-namespace': 'ns' } });
    expect(items[0]).toEqual({ status: { code: 'OK', message: 'OK' } });
    expect(items[1]).toMatchObject({
      message: {
        topic: { resource_namespace: 'ns', name: 'T' },
        system_properties: {
          message_id: 'M1',
          tag: 'A',
          body_digest: { type: 'MD5', checksum: '9DD4E461268C8034F5C8564E155C67A6' },
          delivery_attempt: 1,
          receipt_handle: expect.any(String),
        },
      },
    });
    expect(items[2]).toHaveProperty('delivery_timestamp');
  });
});

describe('routes, assignments and settings', () => {
  it('QueryRoute lists queue ids 0..n-1 on this broker with the accepted types', async () => {
    const s = service();
    s.engine.createTopic('T', { type: 'FIFO', queues: 2 });
    const reply = await s.queryRoute({ topic: { name: 'T' } }, ctx);
    expect(reply.message_queues).toMatchObject([
      {
        id: 0,
        permission: 'READ_WRITE',
        accept_message_types: ['FIFO'],
        broker: { endpoints: { addresses: [{ host: '127.0.0.1', port: 8081 }] } },
      },
      { id: 1 },
    ]);
  });

  it('QueryAssignment always carries a status', async () => {
    const s = service();
    expect(await s.queryAssignment({ topic: { name: 'T' }, group: { name: 'G' } }, ctx)).toMatchObject({
      status: { code: 'OK' },
      assignments: [{ message_queue: { id: -1 } }],
    });
  });

  it('Telemetry settings: producers get an exponential backoff and max_body_size; push consumers batch, poll and fifo', () => {
    const s = service({ pushLongPollingMs: 1500 });
    expect(
      s.telemetry({ settings: { client_type: 'PRODUCER', publishing: { topics: [{ name: 'T' }] } } }, ctx),
    ).toMatchObject({
      status: { code: 'OK' },
      settings: {
        backoff_policy: { max_attempts: 3, exponential_backoff: { multiplier: 2 } },
        publishing: { max_body_size: 16, validate_message_type: true, topics: [{ name: 'T' }] },
      },
    });
    s.engine.createGroup('G', { fifo: true, maxDeliveryAttempts: 4 });
    expect(
      s.telemetry(
        { settings: { client_type: 'PUSH_CONSUMER', subscription: { group: { name: 'G' } } } },
        ctx,
      ),
    ).toMatchObject({
      settings: {
        backoff_policy: { max_attempts: 4, exponential_backoff: {} },
        subscription: {
          fifo: true,
          receive_batch_size: 32,
          long_polling_timeout: { seconds: '1', nanos: 500_000_000 },
        },
      },
    });
    expect(s.telemetry({ settings: { client_type: 'PULL_CONSUMER' } }, ctx)).toMatchObject({
      status: { code: 'UNRECOGNIZED_CLIENT_TYPE' },
    });
    expect(s.telemetry({ thread_stack_trace: { nonce: 'n' } }, ctx)).toBeUndefined();
  });
});
