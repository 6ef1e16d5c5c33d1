// What a received and settled memory-driver message keeps alive, in bytes per message: the cost
// of a batch that something old still reaches after its caller is done with it. Over 1,000
// destinations each consumer's receive() promise is a round old when a batch fulfils it, so every
// scavenge until the next mark-compact copies all of this, twice (docs/bench-profiles.md §20.1
// link (b), §28). Load-independent: heap after full GCs with the acked batches held and dropped,
// and the per-message object types of a heap snapshot with them held.
// node --import tsx [--conditions=switchyard-source] bench/profile-memory-retained.ts [messages]

import { getHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, type Message } from '@switchyard/core';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const BODY = new Uint8Array(256).fill(120);
const n = Number(process.argv[2] ?? 20_000);

const broker = await connect(`memory://retained-${Date.now()}?retention=0`);
const consumer = await broker.consumer('r', { prefetch: 4_000 });
const producer = await broker.producer('r');
const batch = Array.from({ length: 1_000 }, () => ({ body: BODY }));
const held: Message[][] = [];
const sending = (async () => {
  for (let i = 0; i < n; i += batch.length) await producer.send(batch);
})();
for (let got = 0; got < n; ) {
  const messages = await consumer.receive({ max: 1_000, waitMs: 1_000 });
  for (const m of messages) void m.ack();
  got += messages.length;
  held.push(messages);
}
await sending;
// The ack batcher flushes at the check phase: let it, so every message is settled in the driver.
await new Promise((resolve) => setImmediate(resolve));
gc();
gc();
const withHeld = process.memoryUsage().heapUsed;

// Object types with about one instance per message (strings and numbers by kind: no names).
const chunks: string[] = [];
for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
const snapshot = JSON.parse(chunks.join(''));
const fields = snapshot.snapshot.meta.node_fields as string[];
const types = snapshot.snapshot.meta.node_types[0] as string[];
const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
  number,
  number,
  number,
];
const byType = new Map<string, { count: number; bytes: number }>();
for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
  const kind = types[snapshot.nodes[i + type]]!;
  if (kind !== 'object' && kind !== 'concatenated string' && kind !== 'number') continue;
  const key = kind === 'object' ? snapshot.strings[snapshot.nodes[i + name]] : `(${kind})`;
  const entry = byType.get(key) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += snapshot.nodes[i + size];
  byType.set(key, entry);
}

held.length = 0;
gc();
gc();
const without = process.memoryUsage().heapUsed;
console.log(`a settled received message keeps ${((withHeld - without) / n).toFixed(0)} B alive (${n} held)`);
for (const [key, { count, bytes }] of [...byType].sort((a, b) => b[1].bytes - a[1].bytes))
  if (count >= n * 0.9)
    console.log(`  ${key}: ${(count / n).toFixed(2)} per message, ${(bytes / n).toFixed(0)} B`);
await broker.close();
