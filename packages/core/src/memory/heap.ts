/** Binary min-heap ordered by `at`; used for due times (delays, visibility deadlines). */
export class TimeHeap<T extends { readonly at: number }> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= item.at) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]!.at < items[left]!.at ? right : left;
        if (items[child]!.at >= last.at) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }

  values(): readonly T[] {
    return this.#items;
  }

  /** Keeps only the items for which `keep` is true (drops stale entries in O(n)). */
  rebuild(keep: (item: T) => boolean): void {
    const live = this.#items.filter(keep);
    this.#items = [];
    for (const item of live) this.push(item);
  }
}
