// Engine-level behaviour that the SDK tests cannot reach directly: id formats, partition routing,
// abandoned long polls, deletion during a wait, size-based retention and --state round trips.

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { within } from '../../test-kit/within.js';
import { DEFAULT_CLUSTER_ID, PulsarEngine, type ReceiveOptions } from './engine.js';
import { ReceiveAborted } from './errors.js';
import { formatMessageId, parseMessageId } from './message-id.js';
import { parseTopicPath } from './topic-name.js';

const C = DEFAULT_CLUSTER_ID;

function setup(
  partitions = 2,
  opts: { retention?: { timeInMinutes: number; sizeInMB: number }; ackTimeoutSec?: number } = {},
) {
  const clock = new ManualClock(1_700_000_000_000);
  const engine = new PulsarEngine({ clock, defaultAckTimeoutMs: 30_000 });
  engine.createNamespace(C, 'ns', 86_400, opts.retention, '');
  const topic = engine.createTopic(C, 'ns', 't', {
    partitions,
    partitioned: true,
    pulsarTopicType: 3,
    topicType: 0,
    remark: '',
    msgTtlSec: undefined,
    ackTimeoutSec: opts.ackTimeoutSec,
  });
  return { clock, engine, topic };
}

const batch = (n: number, extra: Partial<ReceiveOptions> = {}): ReceiveOptions => ({
  subInitialPosition: 'Earliest',
  maxMessages: n,
  maxBytes: 0,
  waitMs: 0,
  returnEarly: false,
  ...extra,
});

describe('message ids and topic names', () => {
  it('formats ledger:entry:partition and parses 3- and 4-part ids', () => {
    expect(formatMessageId({ ledgerId: 26365, entryId: 1475, partition: 0 })).toBe('26365:1475:0');
    expect(parseMessageId('5:7:-1')).toEqual({ ledgerId: 5, entryId: 7, partition: -1 });
    expect(parseMessageId('5:7:2:-1')).toEqual({ ledgerId: 5, entryId: 7, partition: 2 });
    for (const bad of ['', '1:2', 'a:b:c', '1:2:3:4:5', '1:-2:0', '1::0'])
      expect(parseMessageId(bad)).toBeUndefined();
  });

  it('parses every topic spelling the docs use', () => {
    expect(parseTopicPath('persistent://pulsar-x/ns/t')).toEqual({
      tenant: 'pulsar-x',
      namespace: 'ns',
      topic: 't',
    });
    expect(parseTopicPath('pulsar-x/ns/t')).toEqual({ tenant: 'pulsar-x', namespace: 'ns', topic: 't' });
    expect(parseTopicPath('t')).toEqual({ tenant: 'public', namespace: 'default', topic: 't' });
    for (const bad of ['', 'a/b', 'a/b/c/d', 'a//c', 'persistent://'])
      expect(parseTopicPath(bad)).toBeUndefined();
  });

  it('routes sends round-robin over partitions with increasing entry ids per partition', () => {
    const { engine, topic } = setup(3);
    const ids = Array.from({ length: 6 }, (_, i) => parseMessageId(engine.send(topic, `m${i}`)));
    expect(ids.map((id) => id?.partition)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(ids.map((id) => id?.entryId)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(new Set(ids.map((id) => id?.ledgerId)).size).toBe(3);
  });
});

describe('receive edge cases', () => {
  it('without a subscription or retention, a sent message is not kept (Pulsar semantics)', async () => {
    const { engine, topic } = setup();
    engine.send(topic, 'gone');
    expect(await engine.receive(topic, 's', batch(1))).toEqual([]);
    const kept = setup(2, { retention: { timeInMinutes: 1, sizeInMB: 0 } });
    kept.engine.send(kept.topic, 'kept');
    expect((await kept.engine.receive(kept.topic, 's', batch(1))).map((m) => m.payload)).toEqual(['kept']);
  });

  it('an abandoned long poll gives back what it had collected', async () => {
    const { engine, topic } = setup();
    engine.createSubscription(topic, 's', '', false);
    engine.send(topic, 'a');
    const abort = new AbortController();
    const pending = engine.receive(topic, 's', batch(5, { waitMs: 60_000, signal: abort.signal }));
    // The poll took 'a' before its first wait and holds it while waiting for more.
    expect(engine.pendingPolls).toBe(1);
    expect(await engine.receive(topic, 's', batch(5))).toEqual([]);
    abort.abort();
    await expect(pending).rejects.toBeInstanceOf(ReceiveAborted);
    const got = await engine.receive(topic, 's', batch(5));
    expect(got.map((m) => m.payload)).toEqual(['a']);
  });

  it('deleting the topic ends a waiting receive with nothing', async () => {
    const { engine, topic } = setup();
    const pending = engine.receive(topic, 's', batch(1, { waitMs: 60_000 }));
    expect(engine.pendingPolls).toBe(1);
    engine.deleteTopic(topic);
    // Left waiting, the receive would run its 60 s.
    expect(await within(pending, 10_000, 'the receive on a deleted topic')).toEqual([]);
  });

  it('redelivered messages come before newer ones', async () => {
    const { clock, engine, topic } = setup(1, { ackTimeoutSec: 60 });
    engine.createSubscription(topic, 's', '', false);
    engine.send(topic, 'old');
    const [first] = await engine.receive(topic, 's', batch(1));
    engine.send(topic, 'new');
    clock.advance(60_000);
    const next = await engine.receive(topic, 's', batch(2));
    expect(next.map((m) => m.payload)).toEqual(['old', 'new']);
    expect(next[0]?.messageId).toBe(first?.messageId);
  });

  it('retention by size drops the oldest consumed messages beyond the limit', async () => {
    const { engine, topic } = setup(1, { retention: { timeInMinutes: 60, sizeInMB: 1 } });
    engine.createSubscription(topic, 's', '', false);
    const big = 'x'.repeat(400 * 1024);
    for (let i = 0; i < 4; i++) engine.send(topic, `${i}${big}`);
    const got = await engine.receive(topic, 's', batch(4));
    for (const m of got) engine.acknowledge(topic, 's', m.messageId);
    // 4 × 400 KiB consumed > 1 MiB: only the newest two fit.
    expect(topic.parts[0]?.entries.map((e) => e.payload[0])).toEqual(['2', '3']);
  });
});

describe('--state snapshots', () => {
  it('restores topology, messages, cursors and in-flight deadlines', async () => {
    const { clock, engine, topic } = setup(2, { ackTimeoutSec: 60 });
    engine.createNamespace(C, 'other', 600, { timeInMinutes: 5, sizeInMB: 10 }, 'remark');
    engine.createSubscription(topic, 's', 'sub remark', false);
    for (let i = 0; i < 4; i++) engine.send(topic, `m${i}`);
    const [m0, m1] = await engine.receive(topic, 's', batch(2));
    engine.acknowledge(topic, 's', m0?.messageId ?? '');

    const restored = new PulsarEngine({ clock });
    restored.restore(JSON.parse(JSON.stringify(engine.snapshot())));
    expect(restored.inspect()).toEqual(engine.inspect());
    const t2 = restored.resolve(`${C}/ns/t`);
    // m1 is still in flight; the next two are new.
    expect((await restored.receive(t2, 's', batch(10))).map((m) => m.payload)).toEqual(['m2', 'm3']);
    clock.advance(60_000);
    const redelivered = await restored.receive(t2, 's', batch(10));
    expect(redelivered.map((m) => m.messageId)).toContain(m1?.messageId);
    expect(redelivered.map((m) => m.payload)).not.toContain('m0');
    // New sends continue the id sequences instead of reusing them.
    const next = parseMessageId(restored.send(t2, 'm4'));
    expect(next?.entryId).toBe(2);
    expect(restored.namespace(C, 'other')).toMatchObject({
      msgTtlSec: 600,
      retention: { timeInMinutes: 5, sizeInMB: 10 },
    });
  });

  it('rejects a document that is not a snapshot', () => {
    const engine = new PulsarEngine({ clock: new ManualClock() });
    expect(() => engine.restore({ version: 99 })).toThrow(/snapshot/);
    expect(() => engine.restore(null)).toThrow(/snapshot/);
  });
});
