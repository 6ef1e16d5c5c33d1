// QueueConsumer's requests against the emulator: how a backlog is fetched (up to 4 receives of 16
// on the wire, each batch handed on as it comes back and a receive sent in its place, within the
// room the caller gives) and how an ack of more than 16 messages is deleted (one
// BatchDeleteMessage per 16). Nothing is delivered twice or left behind.

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

/** Wraps the client's calls: counts the receives on the wire and lets a test hold some replies back. */
function watch(http: CmqHttpClient) {
  const call = http.call.bind(http);
  const state = {
    receives: 0,
    onWire: 0,
    peak: 0,
    /** Receives (1-based) whose reply is held until `release`. */
    held: new Set<number>(),
    /** Receives (1-based) that fail before they are sent. */
    failing: new Set<number>(),
    pending: [] as Array<Promise<unknown>>,
    releases: [] as Array<() => void>,
    release() {
      for (const r of state.releases.splice(0)) r();
    },
  };
  http.call = (action, params, options) => {
    if (action !== 'BatchReceiveMessage') return call(action, params, options);
    const n = ++state.receives;
    if (state.failing.has(n)) return Promise.reject(new UnavailableError('injected', { driver: 'cmq' }));
    state.onWire++;
    state.peak = Math.max(state.peak, state.onWire);
    const reply = call(action, params, options);
    const gate = state.held.has(n) ? new Promise<void>((r) => state.releases.push(r)) : undefined;
    const done = (async () => {
      try {
        const r = await reply;
        if (gate !== undefined) await gate;
        return r;
      } finally {
        state.onWire--;
      }
    })();
    state.pending.push(done.catch(() => {}));
    return done;
  };
  return state;
}

describe('QueueConsumer requests', () => {
  it('on a backlog returns a batch with 4 receives left on the wire, every message once', async () => {
    const { http, consumer } = setup('backlog-q', 200);
    const wire = watch(http);
    const texts = new Set<string>();
    let delivered = 0;
    const first = await consumer.receiveBatch(512, 0);
    // One long poll found the backlog: 16 handed on, and 4 receives (an expert's 4 loops' next
    // receives) sent before they are handled, still out when the batch is handed on.
    expect([first.length, wire.onWire]).toEqual([16, 4]);
    for (const d of first) texts.add(d.text!);
    delivered += first.length;
    for (;;) {
      const got = await consumer.receiveBatch(512, 0);
      for (const d of got) texts.add(d.text!);
      delivered += got.length;
      if (got.length === 0) break;
    }
    expect([texts.size, delivered]).toEqual([200, 200]);
    expect(wire.peak).toBe(4);
    await consumer.close();
    await http.close();
  });

  it('hands on each batch as it comes back, not after the slowest receive on the wire', async () => {
    const { http, consumer } = setup('slow-q', 64);
    const wire = watch(http);
    // The second receive (the first sent on the wire after the backlog was found) is held back.
    wire.held.add(2);
    const first = await consumer.receiveBatch(512, 0);
    const second = await consumer.receiveBatch(512, 0);
    expect(first.length).toBe(16);
    expect(second.length).toBeGreaterThan(0);
    // The held receive took its 16, so they are not among the ones handed on yet.
    const seen = new Set([...first, ...second].map((d) => d.text));
    expect(seen.size).toBeLessThanOrEqual(48);
    // A round whose signal aborts while only the held receive is out gives nothing, at once.
    let got = [...first, ...second];
    while (got.length < 48) got = got.concat(await consumer.receiveBatch(512, 0));
    const stop = new AbortController();
    const waiting = consumer.receiveBatch(512, 0, stop.signal);
    stop.abort();
    expect(await waiting).toEqual([]);
    wire.release();
    while (got.length < 64) got = got.concat(await consumer.receiveBatch(512, 0));
    expect(new Set(got.map((d) => d.text)).size).toBe(64);
    await consumer.close();
    await http.close();
  });

  it('hands on what the other receives took when one fails', async () => {
    const { http, consumer } = setup('failed-one-q', 100);
    const wire = watch(http);
    wire.failing.add(2);
    const got: Delivery[] = [];
    for (let empty = 0; empty < 2; ) {
      const batch = await consumer.receiveBatch(512, 0);
      got.push(...batch);
      empty = batch.length === 0 ? empty + 1 : 0;
    }
    expect(new Set(got.map((d) => d.text)).size).toBe(100);
    expect(got.length).toBe(100);
    await consumer.close();
    await http.close();
  });

  it('reports the failure when every receive on the wire fails, and loses nothing', async () => {
    const { http, consumer } = setup('failed-round-q', 100);
    const wire = watch(http);
    for (const n of [2, 3, 4, 5]) wire.failing.add(n);
    expect((await consumer.receiveBatch(512, 0)).length).toBe(16);
    await expect(consumer.receiveBatch(512, 0)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const got: Delivery[] = [];
    while (got.length < 84) {
      const batch = await consumer.receiveBatch(512, 0);
      expect(batch.length).toBeGreaterThan(0);
      got.push(...batch);
    }
    expect(got.length).toBe(84);
    await consumer.close();
    await http.close();
  });

  it('takes from the queue no more than the room it is given, counting the receives on the wire', async () => {
    const { http, consumer } = setup('room-q', 100);
    const wire = watch(http);
    let held = 0;
    while (held < 40) {
      const got = await consumer.receiveBatch(40 - held, 0);
      held += got.length;
    }
    expect(held).toBe(40);
    await Promise.all(wire.pending);
    expect(emulator.engines.cmq.getQueueAttributes('room-q').activeMsgNum).toBe(60);
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
