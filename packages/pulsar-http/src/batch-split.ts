// Batch ReceiveMessage joins ids and payloads with `###` and escapes nothing, so a payload that
// contains `###` (or starts or ends with `#`, next to a separator) can split wrongly. The ids never
// contain `#`, so the id list is always exact; the payload list is trusted only when the text has
// exactly one `###` occurrence per gap, counting overlapping ones — then the split is the only one
// possible. Otherwise the batch is ambiguous and the consumer falls back (see consumer.ts).

export const SEPARATOR = '###';

/**
 * Splits a batch's payloads, or returns undefined when the split is not certain. One scan of the
 * text: every occurrence is found (overlapping ones too) and the pieces are cut between them, so a
 * 1 MiB payload is searched once, not once to count and again by `split` (≈ 0.1 M instructions per
 * MiB each; docs/bench-profiles.md, Pulsar over HTTP receive at 1 MiB).
 */
export function splitPayloads(joined: string, count: number): string[] | undefined {
  if (count <= 0) return undefined;
  if (count === 1) return [joined];
  const parts: string[] = [];
  let start = 0;
  for (let i = joined.indexOf(SEPARATOR); i >= 0; i = joined.indexOf(SEPARATOR, i + 1)) {
    // More occurrences than gaps, or two that overlap (`####`): which `###` separates is not certain.
    if (parts.length === count - 1 || i < start) return undefined;
    parts.push(joined.slice(start, i));
    start = i + SEPARATOR.length;
  }
  if (parts.length !== count - 1) return undefined;
  parts.push(joined.slice(start));
  return parts;
}

export function splitIds(joined: string): string[] {
  return joined === '' ? [] : joined.split(SEPARATOR);
}

/**
 * Makes JSON text free of `#` so it can never be confused with the separator: `#` occurs in JSON
 * only inside strings, where `\u0023` means the same character to every JSON parser.
 */
export function escapeHashes(json: string): string {
  return json.includes('#') ? json.replaceAll('#', '\\u0023') : json;
}
