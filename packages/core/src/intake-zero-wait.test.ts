// A consumer polling with pollWaitMs 0 on an empty in-process source must still let the event loop
// run: the memory driver answers an empty poll without any I/O, and a pump that polls again as a
// microtask starves every timer and socket of the process (the CLI hung on it).

import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

it('run() with pollWaitMs 0 on an empty source lets timers fire, then handles what arrives', async () => {
  const broker = await connect({ driver: 'memory', name: `zero-wait-${randomUUID()}` });
  brokers.push(broker);
  const consumer = await broker.consumer('q', { group: 'g', pollWaitMs: 0 });
  const stop = new AbortController();
  let handled!: (text: string) => void;
  const first = new Promise<string>((resolve) => (handled = resolve));
  const run = consumer.run((m) => handled(m.text()), { signal: stop.signal });
  // Without a yield between empty polls this timer never fires and the test times out.
  await new Promise<void>((resolve) => setTimeout(resolve, 1));
  const producer = await broker.producer('q');
  await producer.send({ body: 'after an empty poll' });
  expect(await first).toBe('after an empty poll');
  stop.abort();
  await run;
});
