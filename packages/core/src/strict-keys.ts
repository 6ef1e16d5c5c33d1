// Strict option and message objects without a schema parse per call: a for-in over the keys
// against a Set, cheap enough for the send path. An unknown key (a typo such as `delay` for
// `delayMs`) is INVALID_ARGUMENT naming the key and the nearest valid one, never silently ignored.

import { InvalidArgumentError } from './errors.js';
import type { OutgoingMessage } from './message-types.js';

/** The allowed key nearest to `key` by edit distance, if it is near enough to be a likely typo. */
export function nearestKey(key: string, allowed: Iterable<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const c = candidate.toLowerCase();
    // A prefix (`delay` → `delayMs`, `wait` → `waitMs`) is the commonest slip: count it as near.
    const distance = c.startsWith(lower) || lower.startsWith(c) ? 1 : levenshtein(lower, c);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** "unknown option `delay` (did you mean `delayMs`?)": the text for one unknown key. */
export function unknownKeyText(key: string, allowed: Iterable<string>, what: string): string {
  const near = nearestKey(key, allowed);
  const valid = [...allowed].join(', ');
  return `unknown ${what} key "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; valid keys: ${valid}`;
}

/**
 * Throws INVALID_ARGUMENT when `value` (an object) has an own enumerable key outside `allowed`.
 * `where` names the object in the error ("send options", "message 3").
 */
export function checkKeys(value: object, allowed: ReadonlySet<string>, where: string, what = 'option'): void {
  for (const key in value) {
    if (!allowed.has(key) && Object.hasOwn(value, key)) {
      throw new InvalidArgumentError(`${where}: ${unknownKeyText(key, allowed, what)}`, {
        details: { field: key, suggestion: nearestKey(key, allowed) },
      });
    }
  }
}

/** Edit distance (insertions, deletions, substitutions), two rows: keys are short. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  let current = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

const messageKeys = [
  'body',
  'contentType',
  'headers',
  'key',
  'keys',
  'tags',
  'routingKey',
  'orderingKey',
  'delayMs',
  'id',
] as const satisfies ReadonlyArray<keyof OutgoingMessage>;
// Compile-time: a field added to OutgoingMessage but not here would be refused at run time.
const everyMessageKey: Exclude<keyof OutgoingMessage, (typeof messageKeys)[number]> extends never
  ? true
  : never = true;
void everyMessageKey;

const MESSAGE_KEYS: ReadonlySet<string> = new Set(messageKeys);

/**
 * Refuses a message object with a key OutgoingMessage does not have (`delay` for `delayMs`):
 * INVALID_ARGUMENT naming it and the nearest valid key. Strings and bytes pass. Runs per message
 * on the send path: a for-in over a few keys against a Set.
 */
export function checkMessageKeys(input: unknown, index: number | undefined): void {
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array) return;
  // The label ("message[3]") is built only for an error: a string per message was most of this
  // check's cost on a batch.
  for (const key in input) {
    if (!MESSAGE_KEYS.has(key) && Object.hasOwn(input, key))
      checkKeys(input, MESSAGE_KEYS, index === undefined ? 'message' : `message[${index}]`, 'message');
  }
}
