// Work in turns (src/indexer/pace.ts): the sort in turns orders as Array.prototype.sort does
// (stable, ties in their first order), and the event loop runs between its turns.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pacer, sortInTurns } from '../src/indexer/pace.js'

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
