// Work in turns (src/indexer/pace.ts): the sort in turns orders as Array.prototype.sort does
// (stable, ties in their first order), and the event loop runs between its turns. The
// collections that never grow in one step (src/indexer/big.ts) answer as an array, a Map and a
// Set do.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ChunkedList, ShardedMap, ShardedSet } from '../src/indexer/big.js'
import { fillInTurns, pacer, sortedInTurns, sortInTurns } from '../src/indexer/pace.js'

/** Keys with many ties (a CID listed as recursive and direct compares on type), in a known pseudo-random order. */
function keys(n: number): string[] {
  let x = 12345
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0
    return `k${x % Math.max(1, Math.floor(n / 3))}`
  })
}

describe('sortInTurns', () => {
  for (const n of [0, 1, 2, 1000, 16_384, 16_385, 50_000, 100_003]) {
    it(`orders ${n} items as a stable sort does`, async () => {
      const k = keys(n)
      const compare = (a: number, b: number) =>
        (k[a] as string) < (k[b] as string) ? -1 : (k[a] as string) > (k[b] as string) ? 1 : 0
      const want = Array.from({ length: n }, (_, i) => i).sort(compare)
      const order = Uint32Array.from({ length: n }, (_, i) => i)
      const got = await sortInTurns(order, compare, pacer(0))
      assert.equal(got, order, 'sorted in place')
      assert.deepEqual(Array.from(got), want)
    })
  }

  it('lets the event loop run between its turns', async () => {
    const n = 200_000
    const k = keys(n)
    const compare = (a: number, b: number) =>
      (k[a] as string) < (k[b] as string) ? -1 : (k[a] as string) > (k[b] as string) ? 1 : 0
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    try {
      await sortInTurns(
        Uint32Array.from({ length: n }, (_, i) => i),
        compare,
        pacer(5),
      )
    } finally {
      clearInterval(timer)
    }
    assert.ok(ticks > 0, 'no timer ran while the sort went on')
  })
})

describe('sortedInTurns', () => {
  it('returns the items of an array or a ChunkedList as a stable sort orders them, leaving them as they were', async () => {
    const k = keys(40_000)
    const list = new ChunkedList<string>()
    for (const x of k) list.push(x)
    const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
    const want = [...k].sort(compare)
    assert.deepEqual(await sortedInTurns(k, compare, pacer(0)), want)
    assert.deepEqual(await sortedInTurns(list, compare, pacer(0)), want)
    assert.deepEqual(k, keys(40_000), 'the array is not sorted in place')
  })
})

describe('fillInTurns', () => {
  for (const n of [0, 1, 65_535, 65_536, 65_537, 300_001]) {
    it(`fills ${n} items as fill() does`, async () => {
      const got = new Float64Array(n)
      await fillInTurns(got, 1.5, pacer(0))
      assert.deepEqual(got, new Float64Array(n).fill(1.5))
    })
  }
})

describe('ChunkedList', () => {
  for (const n of [0, 1, 16_383, 16_384, 16_385, 100_000]) {
    it(`holds ${n} items in order, read and written by index`, () => {
      const list = new ChunkedList<string | null>()
      const want: Array<string | null> = []
      for (let i = 0; i < n; i++) {
        const v = i % 7 === 0 ? null : `v${i}`
        list.push(v)
        want.push(v)
      }
      assert.equal(list.length, n)
      assert.deepEqual(
        Array.from({ length: n }, (_, i) => list.at(i)),
        want,
      )
      if (n > 0) {
        list.set(n - 1, 'last')
        list.set(0, 'first')
        assert.equal(list.at(0), 'first')
        assert.equal(list.at(n - 1), n === 1 ? 'first' : 'last', 'the later set wins where both are one item')
        assert.equal(list.length, n, 'set does not grow the list')
      }
    })
  }
})

describe('ShardedMap and ShardedSet', () => {
  it('answer get, has, set, delete, size and iteration as a Map and a Set do', () => {
    const map = new ShardedMap<number>()
    const ref = new Map<string, number>()
    const set = new ShardedSet()
    const refSet = new Set<string>()
    let x = 7
    const next = () => {
      x = (x * 48271) % 2147483647
      return x.toString(32)
    }
    // CID-like keys and the odd ones out: empty, one character, repeated keys.
    const keys = ['', 'a', ...Array.from({ length: 50_000 }, (_, i) => `bafy${next()}${i % 3}`)]
    for (const [i, k] of keys.entries()) {
      assert.equal(map.set(k, i), map)
      ref.set(k, i)
      set.add(k)
      refSet.add(k)
    }
    for (const k of keys.filter((_, i) => i % 5 === 0)) {
      assert.equal(map.delete(k), ref.delete(k))
      assert.equal(map.delete(k), false, 'a second delete finds nothing')
    }
    assert.equal(map.size, ref.size)
    for (const k of [...keys, 'absent', 'bafyabsent']) {
      assert.equal(map.get(k), ref.get(k))
      assert.equal(map.has(k), ref.has(k))
      assert.equal(set.has(k), refSet.has(k))
    }
    const sorted = <T>(it: Iterable<T>) => [...it].sort()
    assert.deepEqual(sorted(map.keys()), sorted(ref.keys()))
    assert.deepEqual(sorted(map.values()), sorted(ref.values()))
    assert.deepEqual(sorted(map.entries()), sorted(ref.entries()))
    assert.deepEqual(sorted(map), sorted(ref))
    const seen: Array<[string, number]> = []
    map.forEach((v, k, m) => {
      assert.equal(m, map)
      seen.push([k, v])
    })
    assert.deepEqual(sorted(seen), sorted(ref.entries()))
    // Deleting while iterating, as the content collector does.
    for (const [k, v] of map) if (v % 2 === 0) map.delete(k)
    for (const [k, v] of ref) if (v % 2 === 0) ref.delete(k)
    assert.equal(map.size, ref.size)
    assert.deepEqual(sorted(map.keys()), sorted(ref.keys()))
    map.clear()
    assert.equal(map.size, 0)
    assert.equal(map.get(keys[5] as string), undefined)
  })
})
