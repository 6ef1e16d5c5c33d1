// Tag filter expressions as the broker evaluates them: `*` or empty matches everything, otherwise
// `A||B` matches exactly those tags, and an untagged message matches only `*`.

import { fail } from './statuses.js';

export type TagFilter = { readonly all: true } | { readonly all: false; readonly tags: ReadonlySet<string> };

export const MATCH_ALL: TagFilter = { all: true };

export function parseFilter(type: string | undefined, expression: string | undefined): TagFilter {
  if (type === 'SQL') fail('ILLEGAL_FILTER_EXPRESSION', 'SQL92 filtering is not supported by the emulator');
  const text = (expression ?? '').trim();
  if (text === '' || text === '*') return MATCH_ALL;
  const tags = new Set(
    text
      .split('||')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  );
  if (tags.size === 0 || tags.has('*')) return MATCH_ALL;
  return { all: false, tags };
}

export function matches(filter: TagFilter, tag: string | undefined): boolean {
  if (filter.all) return true;
  return tag !== undefined && filter.tags.has(tag);
}
