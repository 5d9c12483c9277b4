// Collections of a million items that never grow in one step. A JavaScript array, Map or Set of a
// million items grows by allocating a new backing store for all of them and copying (or rehashing)
// into it, in one synchronous step: measured on this project's 2-core machine (node 20, the
// manager's flags), the push that grows an array past 940,000 strings took 56 ms, the Set.add
// past 524,288 keys 88 ms and the Map.set 142 ms, most of it the kernel's page faults on the new
// store. Three such arrays growing in the same turn held the manager's event loop up for 100-150
// ms during every listing of a million pins (docs/BENCHMARKS.md, "The manager's event loop").
// These keep their items in pieces of at most a few tens of thousands, so that no step copies
// more than one piece.

/** Items per piece of a ChunkedList: 128 KB of pointers. */
const CHUNK_BITS = 14
const CHUNK = 1 << CHUNK_BITS

/** An append-only list read by index, in pieces of CHUNK items. */
export class ChunkedList<T> {
  readonly #chunks: T[][] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  push(value: T): void {
    const i = this.#length & (CHUNK - 1)
    if (i === 0) this.#chunks.push(new Array<T>(CHUNK))
    ;(this.#chunks[this.#chunks.length - 1] as T[])[i] = value
    this.#length++
  }

  /** The item at `index` (0 <= index < length; unchecked, like an array's). */
  at(index: number): T {
    return (this.#chunks[index >>> CHUNK_BITS] as T[])[index & (CHUNK - 1)] as T
  }

  set(index: number, value: T): void {
    ;(this.#chunks[index >>> CHUNK_BITS] as T[])[index & (CHUNK - 1)] = value
  }
}

/** Shards of a ShardedMap or ShardedSet: at a million keys about 4,000 in each. */
const SHARDS = 256

/** The shard of a key: its last two characters (random in a CID, whatever its base). */
function shardOf(key: string): number {
  const n = key.length
  return n === 0 ? 0 : (key.charCodeAt(n - 1) * 31 + (n > 1 ? key.charCodeAt(n - 2) : 0)) & (SHARDS - 1)
}

/** A Map with string keys, kept as SHARDS Maps: no rehash copies more than one of them. Iteration is by shard, then insertion. */
export class ShardedMap<V> implements ReadonlyMap<string, V> {
  readonly #shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>())
  #size = 0

  get size(): number {
    return this.#size
  }

  get(key: string): V | undefined {
    return (this.#shards[shardOf(key)] as Map<string, V>).get(key)
  }

  has(key: string): boolean {
    return (this.#shards[shardOf(key)] as Map<string, V>).has(key)
  }

  set(key: string, value: V): this {
    const shard = this.#shards[shardOf(key)] as Map<string, V>
    const before = shard.size
    shard.set(key, value)
    this.#size += shard.size - before
    return this
  }

  delete(key: string): boolean {
    const deleted = (this.#shards[shardOf(key)] as Map<string, V>).delete(key)
    if (deleted) this.#size--
    return deleted
  }

  clear(): void {
    for (const shard of this.#shards) shard.clear()
    this.#size = 0
  }

  *entries(): MapIterator<[string, V]> {
    for (const shard of this.#shards) yield* shard.entries()
  }

  *keys(): MapIterator<string> {
    for (const shard of this.#shards) yield* shard.keys()
  }

  *values(): MapIterator<V> {
    for (const shard of this.#shards) yield* shard.values()
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this)
  }
}

/** A Set of strings, kept as SHARDS Sets (see ShardedMap). */
export class ShardedSet {
  readonly #shards: Set<string>[] = Array.from({ length: SHARDS }, () => new Set<string>())

  add(key: string): this {
    ;(this.#shards[shardOf(key)] as Set<string>).add(key)
    return this
  }

  has(key: string): boolean {
    return (this.#shards[shardOf(key)] as Set<string>).has(key)
  }
}
