/** A binary min-heap under `before` (true when a must come out before b). Internal to the engine. */
export class BinaryHeap<T> {
  private readonly items: T[];

  /** Takes ownership of `items` and heapifies it (a sorted array is already a heap). */
  constructor(
    private readonly before: (a: T, b: T) => boolean,
    items: T[],
  ) {
    this.items = items;
    for (let i = (items.length >>> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(index: number): void {
    const items = this.items;
    const item = items[index] as T;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      const above = items[parent] as T;
      if (!this.before(item, above)) break;
      items[index] = above;
      index = parent;
    }
    items[index] = item;
  }

  private down(index: number): void {
    const items = this.items;
    const length = items.length;
    const item = items[index] as T;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.before(items[right] as T, items[left] as T) ? right : left;
      if (!this.before(items[child] as T, item)) break;
      items[index] = items[child] as T;
      index = child;
    }
    items[index] = item;
  }
}
