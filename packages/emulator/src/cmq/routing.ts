// Topic filters (protocols/cmq.md §7): tag sets intersect; routing keys are dot-separated words
// matched RabbitMQ-style, `*` = exactly one word, `#` = zero or more words.

/** Tag filtering: no filter takes everything; otherwise at least one tag in common. */
export function tagsMatch(filterTags: readonly string[], messageTags: readonly string[]): boolean {
  if (filterTags.length === 0) return true;
  return messageTags.some((tag) => filterTags.includes(tag));
}

export function bindingKeyMatches(bindingKey: string, routingKey: string): boolean {
  return matchWords(bindingKey.split('.'), 0, routingKey.split('.'), 0);
}

export function routingMatch(bindingKeys: readonly string[], routingKey: string): boolean {
  return bindingKeys.some((key) => bindingKeyMatches(key, routingKey));
}

function matchWords(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  if (p === pattern.length) return w === words.length;
  const head = pattern[p];
  if (head === '#') {
    for (let skip = w; skip <= words.length; skip++) {
      if (matchWords(pattern, p + 1, words, skip)) return true;
    }
    return false;
  }
  if (w === words.length) return false;
  if (head === '*') return words[w] !== '' && matchWords(pattern, p + 1, words, w + 1);
  return head === words[w] && matchWords(pattern, p + 1, words, w + 1);
}
