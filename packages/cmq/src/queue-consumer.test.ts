// QueueConsumer's requests against the emulator: how a backlog is fetched (up to 64 messages per
// round, every request of a round after a full one sent at once) and how an ack of more than 16
// messages is deleted (one BatchDeleteMessage per 16). Nothing is delivered twice or left behind.

import { CredentialProvider, type Delivery, UnavailableError } from '@switchyard/core/driver';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig, startTestEmulator } from '../test-kit/emulator.js';
import { parseConfig } from './config.js';
import { CmqHttpClient } from './http-client.js';
import { QueueConsumer } from './queue-model.js';

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.stop());

function setup(queue: string, messages: number) {
  emulator.engines.cmq.createQueue(queue, { visibilityTimeout: 300 });
  for (let i = 0; i < messages; i++) emulator.engines.cmq.sendMessage(queue, `m${i}`);
  const { driver: _driver, ...input } = emulatorConfig(emulator, {});
  const c = parseConfig(input, {});
  const http = new CmqHttpClient({
    ...c,
    credentials: new CredentialProvider(c.credentials, { driver: 'cmq' }),
  });
  const consumer = new QueueConsumer(http, queue, {
    bodyMode: 'raw',
    nackMode: 'visibility',
    maxMessageBytes: 65_536,
  });
  return { http, consumer };
}

describe('QueueConsumer requests', () => {
  it('fetches a backlog 64 messages per round, 4 requests each, every message once', async () => {
    const { http, consumer } = setup('backlog-q', 200);
    const rounds: Array<{ got: number; requests: number }> = [];
    const texts = new Set<string>();
    for (;;) {
      const before = http.requests;
      const got = await consumer.receiveBatch(512, 0);
      rounds.push({ got: got.length, requests: http.requests - before });
      for (const d of got) texts.add(d.text!);
      if (got.length === 0) break;
    }
    // The first round finds the backlog with one request, then sends 3 more; the rounds after a
    // full one send their 4 at once. The round that drains the queue (8 left) is not full, so the
    // next polls with one request again.
    expect(rounds).toEqual([
      { got: 64, requests: 4 },
      { got: 64, requests: 4 },
      { got: 64, requests: 4 },
      { got: 8, requests: 4 },
      { got: 0, requests: 1 },
    ]);
    expect(texts.size).toBe(200);
    await consumer.close();
    await http.close();
  });

  it('hands on what the other requests of a backlog round took when its first request fails', async () => {
    const { http, consumer } = setup('failed-head-q', 100);
    // The real emulator answers every request but the first of the second round, which fails
    // before it is sent (as a refused connection would).
    const call = http.call.bind(http);
    let receives = 0;
    http.call = (action, params, options) => {
      if (action === 'BatchReceiveMessage' && ++receives === 5)
        return Promise.reject(new UnavailableError('injected', { driver: 'cmq' }));
      return call(action, params, options);
    };
    const first = await consumer.receiveBatch(512, 0);
    const second = await consumer.receiveBatch(512, 0);
    expect([first.length, second.length]).toEqual([64, 36]);
    expect(new Set([...first, ...second].map((d) => d.text)).size).toBe(100);
    await consumer.close();
    await http.close();
  });

  it('reports the failure of a backlog round whose requests all fail, and loses nothing', async () => {
    const { http, consumer } = setup('failed-round-q', 100);
    const call = http.call.bind(http);
    expect((await consumer.receiveBatch(512, 0)).length).toBe(64);
    http.call = () => Promise.reject(new UnavailableError('injected', { driver: 'cmq' }));
    await expect(consumer.receiveBatch(512, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    http.call = call;
    expect((await consumer.receiveBatch(512, 0)).length).toBe(36);
    await consumer.close();
    await http.close();
  });

  it('takes no more than the room it is given', async () => {
    const { http, consumer } = setup('room-q', 100);
    expect((await consumer.receiveBatch(40, 0)).length).toBe(40);
    // The round after a full one, with less room than 64.
    expect((await consumer.receiveBatch(20, 0)).length).toBe(20);
    expect((await consumer.receiveBatch(10, 0)).length).toBe(10);
    expect(emulator.engines.cmq.getQueueAttributes('room-q').activeMsgNum).toBe(30);
    await consumer.close();
    await http.close();
  });

  it('an ack of 40 deletes them all, one BatchDeleteMessage per 16', async () => {
    const { http, consumer } = setup('ack-q', 40);
    const got: Delivery[] = [];
    while (got.length < 40) got.push(...(await consumer.receiveBatch(40 - got.length, 0)));
    const before = http.requests;
    await consumer.ack(got);
    expect(http.requests - before).toBe(3);
    const left = emulator.engines.cmq.getQueueAttributes('ack-q');
    expect([left.activeMsgNum, left.inactiveMsgNum]).toEqual([0, 0]);
    await consumer.close();
    await http.close();
  });
});
