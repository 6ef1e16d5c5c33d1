// The memory broker's management calls for tools (`switchyard list/stats/peek`), straight from
// the store: it is in this process, so a peek reads a group's queue without taking anything.
// There is no purge: nothing in the memory broker's model empties a group but consuming.

import type { DriverAdmin, PeekedMessage } from '../driver.js';
import { toDelivery } from './driver.js';
import type { MemoryStore } from './store.js';
import type { StoredMessage } from './types.js';

export function memoryAdmin(store: MemoryStore, countsAttempts: boolean): DriverAdmin {
  return {
    list: async () => store.topics().map((name) => ({ name, kind: 'topic' as const })),
    stats: async (source, group) => {
      if (!store.hasTopic(source)) throw store.notFound(source);
      const groups = store.stats(source);
      const wanted = group === undefined ? groups : { [group]: groups[group] ?? { backlog: 0, inFlight: 0 } };
      return {
        name: source,
        groups: Object.fromEntries(
          Object.entries(wanted).map(([g, c]) => [g, { ready: c.backlog, inFlight: c.inFlight }]),
        ),
      };
    },
    peek: async (source, group, { max }) =>
      store
        .peek(source, group, max)
        .map(({ message, attempts }) => toPeeked(message, attempts, countsAttempts)),
  };
}

/** `attempts` deliveries so far: the next one is attempts + 1 (undefined where the profile counts none). */
function toPeeked(message: StoredMessage, attempts: number, countsAttempts: boolean): PeekedMessage {
  // A delivery's fields (its settle handle dropped), counting the delivery it would be next.
  const entry = { message, seq: 0, attempts: attempts + 1, lease: 0, dueAt: 0, irregular: false };
  const {
    handle: _handle,
    lease: _lease,
    attemptKey: _key,
    ...peeked
  } = toDelivery(entry, 0, countsAttempts);
  return peeked;
}
