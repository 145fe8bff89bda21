/**
 * A byte-keyed trie for sentence pieces and user-defined symbols. Edges live in one Map keyed by
 * `node * 256 + byte`, which keeps building cheap and lookups allocation-free.
 */
export class ByteTrie {
  private readonly edges = new Map<number, number>();
  /** Value stored at each node, -1 where no key ends. */
  private values: number[] = [-1];

  static readonly ROOT = 0;

  /** Adds `key` with `value`; an existing key keeps its first value. */
  insert(key: Uint8Array, value: number): void {
    let node = ByteTrie.ROOT;
    for (const b of key) {
      const edge = node * 256 + b;
      let next = this.edges.get(edge);
      if (next === undefined) {
        next = this.values.length;
        this.values.push(-1);
        this.edges.set(edge, next);
      }
      node = next;
    }
    if (this.values[node] === -1) this.values[node] = value;
  }

  /** The child of `node` along `byte`, or -1. */
  child(node: number, byte: number): number {
    return this.edges.get(node * 256 + byte) ?? -1;
  }

  value(node: number): number {
    return this.values[node];
  }

  get isEmpty(): boolean {
    return this.edges.size === 0;
  }

  /** Length of the longest key that is a prefix of `buf[pos, end)`, 0 if none. */
  longestPrefix(buf: Uint8Array, pos: number, end: number): number {
    let node = ByteTrie.ROOT;
    let best = 0;
    for (let i = pos; i < end; i++) {
      node = this.child(node, buf[i]);
      if (node < 0) break;
      if (this.values[node] >= 0) best = i + 1 - pos;
    }
    return best;
  }
}
