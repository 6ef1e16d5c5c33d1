// AllocateMessageQueueAveragely, the Apache clients' default (sheet §4.3): every member computes
// the same split from the same sorted lists, so no coordination is needed beyond the member list.

import { compareQueues, type MessageQueue } from './routes.js';

export function allocateAveragely(
  self: string,
  members: readonly string[],
  queues: readonly MessageQueue[],
): MessageQueue[] {
  const cids = [...members].sort();
  const all = [...queues].sort(compareQueues);
  const i = cids.indexOf(self);
  if (i < 0 || all.length === 0) return [];
  const n = all.length;
  const c = cids.length;
  const mod = n % c;
  const avg = n <= c ? 1 : mod > 0 && i < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
  const start = mod > 0 && i < mod ? i * avg : i * avg + mod;
  return all.slice(start, start + Math.max(0, Math.min(avg, n - start)));
}
