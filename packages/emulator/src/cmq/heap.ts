// A binary min-heap keyed by time. Entries are never removed from the middle: callers tag each
// entry with a generation and skip stale ones when they pop, which keeps every operation O(log n).
// Stale entries would otherwise stay until their time comes and a pop reaches them, holding what
// they point at; owners sweep them with retain() when they outnumber the live ones.

export interface TimedEntry<T> {
  readonly at: number;
  readonly item: T;
  readonly gen: number;
}

export class TimeHeap<T> {
  private readonly entries: TimedEntry<T>[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(entry: TimedEntry<T>): void {
    const a = this.entries;
    a.push(entry);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent]!;
      if (p.at <= entry.at) break;
      a[i] = p;
      i = parent;
    }
    a[i] = entry;
  }

  peek(): TimedEntry<T> | undefined {
    return this.entries[0];
  }

  pop(): TimedEntry<T> | undefined {
    const a = this.entries;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && a[r]!.at < a[l]!.at ? r : l;
      if (a[child]!.at >= last.at) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = last;
    return top;
  }

  clear(): void {
    this.entries.length = 0;
  }

  /** Keeps only the entries `keep` accepts, then restores heap order: O(n), for sweeping out stale entries. */
  retain(keep: (entry: TimedEntry<T>) => boolean): void {
    const kept = this.entries.filter(keep);
    this.entries.length = 0;
    kept.sort((a, b) => a.at - b.at);
    // A sorted array is a valid min-heap.
    for (const entry of kept) this.entries.push(entry);
  }
}
