import { EventEmitter } from 'node:events';
import { ClosedError, type Outgoing, type Receipt } from '@switchyard/core/driver';
import type { MqttClient } from 'mqtt';
import { afterEach, expect, it, vi } from 'vitest';
import { parseConfig } from './config.js';
import { MqttProducer } from './producer.js';

// sendBatch's bookkeeping per batch (PendingPublishes): PUBACKs settle their own message, an
// aborted signal or a connection down past unavailableTimeoutMs fails what has no PUBACK yet, and
// a finished batch leaves no listener behind. Over a stand-in client: MQTT.js's side is its own.

/** What the producer touches of an MQTT.js client: publish with a callback, and its events. */
class StandIn extends EventEmitter {
  connected = true;
  reconnecting = false;
  readonly pending: Array<(error: Error | null, packet: unknown) => void> = [];
  #nextId = 0;

  publish(
    _topic: string,
    _payload: Buffer,
    _options: unknown,
    callback: (e: Error | null, p: unknown) => void,
  ) {
    const messageId = ++this.#nextId;
    this.pending.push((error) => callback(error, { cmd: 'publish', messageId }));
    return this;
  }

  /** The broker's PUBACK for the n-th publish. */
  puback(n: number): void {
    this.pending[n]!(null, undefined);
  }
}

const logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };

function open(unavailableTimeoutMs = 5_000) {
  const client = new StandIn();
  const config = parseConfig({ host: '127.0.0.1', unavailableTimeoutMs });
  const producer = new MqttProducer(client as unknown as MqttClient, 'orders', config, 5, logger as never);
  return { client, producer };
}

function messages(n: number): Outgoing[] {
  return Array.from(
    { length: n },
    (_, i) =>
      ({
        id: `m${i}`,
        body: Buffer.from(`body ${i}`),
        contentType: 'text/plain',
        headers: {},
        publishedAt: 0,
      }) as unknown as Outgoing,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

it('settles each message on its own PUBACK, reports it as confirmed, and resolves after the last', async () => {
  const { client, producer } = open();
  const confirmed: Array<[number, Receipt]> = [];
  let done = false;
  const results = producer.sendBatch(messages(3), undefined, (i, r) => confirmed.push([i, r]));
  void results.then(() => {
    done = true;
  });
  client.puback(1);
  expect(confirmed).toEqual([[1, { messageId: 'm1' }]]);
  client.puback(0);
  client.puback(2);
  expect(await results).toEqual([{ messageId: 'm0' }, { messageId: 'm1' }, { messageId: 'm2' }]);
  expect(done).toBe(true);
});

it('fails what has no PUBACK yet when the signal aborts, and stops listening once settled', async () => {
  const { client, producer } = open();
  const abort = new AbortController();
  const results = producer.sendBatch(messages(2), abort.signal);
  client.puback(0);
  abort.abort(new Error('deadline passed'));
  const [first, second] = await results;
  expect(first).toEqual({ messageId: 'm0' });
  expect(second).toBeInstanceOf(Error);
  expect((second as Error).message).toContain('deadline passed');
  // A PUBACK after the abort changes nothing.
  client.puback(1);
  expect((await results)[1]).toBe(second);
});

it('publishes nothing when the signal has aborted already', async () => {
  const { client, producer } = open();
  const abort = new AbortController();
  abort.abort();
  const results = await producer.sendBatch(messages(2), abort.signal);
  expect(client.pending).toHaveLength(0);
  expect(results.map((r) => (r as { code?: string }).code)).toEqual(['TIMEOUT', 'TIMEOUT']);
});

it("fails with an aborted signal's own reason when it aborted before the send", async () => {
  const { client, producer } = open();
  const abort = new AbortController();
  abort.abort(new ClosedError('the producer is closing'));
  const results = await producer.sendBatch(messages(1), abort.signal);
  expect(client.pending).toHaveLength(0);
  expect(results[0]).toMatchObject({ code: 'CLOSED', message: 'the producer is closing' });
});

it('fails what has no PUBACK when the connection stays down past unavailableTimeoutMs, not before', async () => {
  vi.useFakeTimers();
  const { client, producer } = open(1_000);
  const results = producer.sendBatch(messages(2));
  client.puback(0);
  client.emit('offline');
  vi.advanceTimersByTime(999);
  client.emit('connect');
  client.emit('offline');
  vi.advanceTimersByTime(999);
  expect(client.pending).toHaveLength(2);
  vi.advanceTimersByTime(1);
  const [first, second] = await results;
  expect(first).toEqual({ messageId: 'm0' });
  expect((second as { code?: string }).code).toBe('UNAVAILABLE');
  expect((second as { retryable?: boolean }).retryable).toBe(true);
});

it('leaves no abort or outage listener behind once the batch is settled', async () => {
  const { client, producer } = open();
  const abort = new AbortController();
  const add = vi.spyOn(abort.signal, 'addEventListener');
  const remove = vi.spyOn(abort.signal, 'removeEventListener');
  const results = producer.sendBatch(messages(1), abort.signal);
  client.puback(0);
  await results;
  expect(add).toHaveBeenCalledTimes(1);
  expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]![1]);
  // An outage after the batch settled starts no timer that could fail it.
  vi.useFakeTimers();
  client.emit('offline');
  expect(vi.getTimerCount()).toBe(0);
});

it('counts unavailableTimeoutMs from the send when the connection is down already', async () => {
  vi.useFakeTimers();
  const { client, producer } = open(1_000);
  client.connected = false;
  const results = producer.sendBatch(messages(1));
  vi.advanceTimersByTime(1_000);
  expect(((await results)[0] as { code?: string }).code).toBe('UNAVAILABLE');
});
