// Shared by the interop suites: receiving a known number of messages, and one stream worked by a
// Switchyard consumer and a plain one together.

import type { Consumer, Message } from '@switchyard/core';

export const DEADLINE_MS = 20_000;

/** Receives until `n` messages arrived or the deadline passed (the caller checks the count). */
export async function receiveAll(consumer: Consumer, n: number): Promise<Message[]> {
  const got: Message[] = [];
  const end = Date.now() + DEADLINE_MS;
  while (got.length < n && Date.now() < end)
    got.push(...(await consumer.receive({ max: n - got.length, waitMs: 1_000 })));
  return got;
}

/**
 * Runs `consumer` (slowly enough that the plain side gets a share) while `plainTake` receives
 * and acks what it can, until `n` messages were handled in all; then closes the consumer.
 * `plainTake` returns the ids it handled in one round.
 */
export async function shareStream(
  consumer: Consumer,
  n: number,
  plainTake: () => Promise<string[]>,
): Promise<{ bySwitchyard: string[]; byPlain: string[] }> {
  const bySwitchyard: string[] = [];
  const byPlain: string[] = [];
  const running = consumer.run(async (m) => {
    bySwitchyard.push(m.id);
    await new Promise((r) => setTimeout(r, 20));
  });
  const end = Date.now() + DEADLINE_MS * 2;
  while (bySwitchyard.length + byPlain.length < n && Date.now() < end) byPlain.push(...(await plainTake()));
  await consumer.close();
  await running;
  return { bySwitchyard, byPlain };
}
