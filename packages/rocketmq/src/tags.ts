// RocketMQ carries one tag per message and filters with a tag expression: `*` for all, or exact
// tags joined by `||` (the server splits on `||` and trims). A tag holding `|` or a control
// character would change the expression's meaning, and the server rejects such tags on send
// (40004), so both sides are checked here with a clear message.

import { InvalidArgumentError } from '@switchyard/core/driver';

const BAD_TAG = /[|\p{Cc}]/u;

export function validateTag(tag: string): string {
  if (tag.trim() === '' || BAD_TAG.test(tag)) {
    throw new InvalidArgumentError(
      `RocketMQ tag "${tag}" is not allowed: a tag must not be blank or contain "|" or control characters`,
      { driver: 'rocketmq', details: { tag } },
    );
  }
  return tag;
}

/** `['TagA', 'TagB']` → `TagA||TagB`; no tags → `*` (every message, tagged or not). */
export function tagExpression(tags: readonly string[] | undefined): string {
  if (tags === undefined || tags.length === 0) return '*';
  const unique = [...new Set(tags.map(validateTag))];
  if (unique.includes('*')) return '*';
  return unique.join('||');
}
