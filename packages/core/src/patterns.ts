// AMQP topic-exchange matching, which CMQ routing filters and Switchyard's portable
// `routingKeys` filter share: words split on '.', `*` matches exactly one word, `#` zero or more.

export function routingKeyMatches(pattern: string, key: string): boolean {
  return matchWords(pattern.split('.'), 0, key.split('.'), 0);
}

function matchWords(pattern: string[], p: number, key: string[], k: number): boolean {
  while (p < pattern.length) {
    const word = pattern[p]!;
    if (word === '#') {
      if (p === pattern.length - 1) return true;
      for (let skip = k; skip <= key.length; skip++) if (matchWords(pattern, p + 1, key, skip)) return true;
      return false;
    }
    if (k >= key.length) return false;
    if (word !== '*' && word !== key[k]) return false;
    p++;
    k++;
  }
  return k === key.length;
}

/** True when no filter is set, or the message passes every filter that is set. */
export function filterMatches(
  filter: { readonly tags?: readonly string[]; readonly routingKeys?: readonly string[] },
  message: { readonly tags: readonly string[]; readonly routingKey: string | undefined },
): boolean {
  if (filter.tags !== undefined && filter.tags.length > 0) {
    if (!filter.tags.includes('*') && !message.tags.some((tag) => filter.tags!.includes(tag))) return false;
  }
  if (filter.routingKeys !== undefined && filter.routingKeys.length > 0) {
    const key = message.routingKey ?? '';
    if (!filter.routingKeys.some((pattern) => routingKeyMatches(pattern, key))) return false;
  }
  return true;
}
