// CMQ names (queues, topics, subscriptions): a letter first, then letters, digits, `-` or `_`,
// at most 64 characters, unique case-insensitively (protocols/cmq.md §5, tencentcloud-api.md §4.3).

import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@switchyard/core/driver';

export const CMQ_NAME_RULE = 'a letter first, then letters, digits, "-" or "_", at most 64 characters';
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function isCmqName(name: string): boolean {
  return NAME.test(name);
}

/** Throws INVALID_ARGUMENT naming the rule when `name` is not a valid CMQ name. */
export function checkCmqName(name: string, what: string): string {
  if (!isCmqName(name)) {
    const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
    throw new InvalidArgumentError(
      `CMQ ${what} name "${shown}" is invalid: CMQ names need ${CMQ_NAME_RULE}`,
      {
        driver: 'cmq',
        details: { name: shown, rule: CMQ_NAME_RULE },
      },
    );
  }
  return name;
}

/**
 * The queue (and subscription) that carries one consumer group of a topic: `<topic>-<group>`.
 * Characters CMQ does not allow become `-`, and when anything had to change (or the result is
 * longer than 64) a short hash of the exact topic and group is appended, so two different groups
 * never share a queue by accident.
 */
export function groupQueueName(topic: string, group: string): string {
  const plain = `${topic}-${group}`;
  if (isCmqName(plain)) return plain;
  const cleaned = plain.replace(/[^A-Za-z0-9_-]/g, '-');
  const hash = createHash('sha256').update(`${topic}\u0000${group}`).digest('hex').slice(0, 8);
  const head = /^[A-Za-z]/.test(cleaned) ? cleaned : `q${cleaned}`;
  return `${head.slice(0, 64 - 9)}-${hash}`;
}
