// The indexing loop's rules, with collectors of our own (no Kubo needed to test scheduling):
// no overlapping cycles, one failing collector does not stop the others and is retried soon,
// refresh runs a fresh cycle (also while paused), and long cycles stretch the interval.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type Collector, IndexLoop } from '../src/indexer/loop.js'
import type { KuboRpc } from '../src/kubo/rpc.js'
import { createLogger } from '../src/manager/log.js'

const log = createLogger({})
const context = () => ({ rpc: {} as KuboRpc, peerId: 'peer', kuboVersion: '0.43.1' })
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function counting(name: string, behaviour: (n: number) => Promise<void> | void = () => {}) {
  const calls: number[] = []
  let running = 0
  let maxRunning = 0
  const collector: Collector = {
    name,
    async run(ctx) {
      running++
      maxRunning = Math.max(maxRunning, running)
      calls.push(ctx.cycle)
      try {
        await behaviour(calls.length)
        return { wrote: true, rows: calls.length }
      } finally {
        running--
      }
    },
  }
  return { collector, calls, maxRunning: () => maxRunning }
}

describe('IndexLoop', () => {
  it('runs at once, then never overlaps cycles even when refresh is asked during one', async () => {
    const slow = counting('slow', () => sleep(150))
    const loop = new IndexLoop({ collectors: [slow.collector], intervalS: 3600, context, log })
    loop.start()
    await loop.firstFullCycle()
    const refreshes = await Promise.all([loop.refresh(), loop.refresh(), loop.refresh()])
    // Three refreshes asked together are served by one fresh cycle after the first.
    assert.deepEqual(
      refreshes.map((r) => r.cycle),
      [2, 2, 2],
    )
    assert.equal(slow.maxRunning(), 1)
    await loop.close()
  })

  it('a refresh asked while a cycle runs waits for the next cycle, which starts after the change', async () => {
    const slow = counting('slow', () => sleep(200))
    const loop = new IndexLoop({ collectors: [slow.collector], intervalS: 3600, context, log })
    loop.start()
    await sleep(50) // cycle 1 is running
    const r = await loop.refresh()
    assert.equal(r.cycle, 2)
    await loop.close()
  })

  it('a failing collector does not stop the others, is reported, and is retried soon on its own', async () => {
    const good = counting('good')
    const flaky = counting('flaky', (n) => {
      if (n <= 2) throw new Error(`failure number ${n}`)
    })
    const loop = new IndexLoop({
      collectors: [flaky.collector, good.collector],
      intervalS: 3600,
      context,
      log,
      retryAfterMs: 50,
    })
    loop.start()
    const first = await loop.firstFullCycle()
    assert.deepEqual(good.calls, [1], 'the good collector ran once, in the first cycle only')
    assert.equal(flaky.calls.length, 3, 'the flaky one was retried until it succeeded')
    assert.ok(first.cycle >= 3)
    const st = loop.status()
    assert.equal(st.collectors.flaky?.last_error, null)
    assert.equal(st.collectors.flaky?.consecutive_failures, 0)
    assert.ok(st.last_updated)
    await loop.close()
  })

  it('reports the error while a collector keeps failing', async () => {
    const broken = counting('broken', () => {
      throw new Error('Kubo said no')
    })
    const loop = new IndexLoop({
      collectors: [broken.collector],
      intervalS: 3600,
      context,
      log,
      retryAfterMs: 20,
    })
    loop.start()
    await sleep(300)
    const st = loop.status()
    assert.equal(st.collectors.broken?.last_error, 'Kubo said no')
    assert.ok((st.collectors.broken?.consecutive_failures ?? 0) >= 3)
    assert.equal(st.last_updated, null, 'never fully updated')
    const refreshed = await loop.refresh()
    assert.deepEqual(refreshed.outcomes.broken, { ok: false, error: 'Kubo said no' })
    await loop.close()
  })

  it('without Kubo, every collector fails with a reason and nothing is run', async () => {
    const c = counting('pins')
    const loop = new IndexLoop({
      collectors: [c.collector],
      intervalS: 3600,
      context: () => null,
      log,
      retryAfterMs: 1000,
    })
    loop.start()
    const r = await loop.refresh()
    assert.deepEqual(c.calls, [])
    assert.match(r.outcomes.pins?.ok === false ? r.outcomes.pins.error : '', /Kubo is not available/)
    await loop.close()
  })

  it('pause stops regular cycles, refresh still runs one, resume brings them back', async () => {
    const c = counting('pins')
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 0.05, context, log })
    loop.start()
    await loop.firstFullCycle()
    loop.pause()
    await sleep(20) // let a cycle already under way finish
    const paused = c.calls.length
    await sleep(200)
    assert.equal(c.calls.length, paused, 'no cycle while paused')
    assert.equal(loop.status().running, false)
    await loop.refresh()
    assert.equal(c.calls.length, paused + 1, 'refresh runs while paused')
    loop.resume()
    await sleep(400)
    assert.ok(c.calls.length >= paused + 3, 'cycles again after resume')
    await loop.close()
  })

  it('stretches the interval when a cycle takes more than a tenth of it, and says why', async () => {
    const c = counting('slow', () => sleep(60))
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 0.2, context, log })
    loop.start()
    await loop.firstFullCycle()
    const st = loop.status()
    // Ten times the measured cycle (timers may fire a fraction of a millisecond early).
    const cycleMs = st.collectors.slow?.last_duration_ms ?? 0
    assert.ok(cycleMs >= 50, `cycle ${cycleMs} ms`)
    assert.ok(st.effective_interval_s >= 0.5, `effective ${st.effective_interval_s}`)
    assert.ok(Math.abs(st.effective_interval_s - (st.last_cycle?.duration_ms ?? 0) / 100) <= 0.02)
    assert.match(st.stretched_reason ?? '', /more than a tenth of the 0\.2 s interval/)
    await loop.close()
  })

  it('close lets a running cycle finish and rejects waiting refreshes', async () => {
    let finished = false
    const c = counting('slow', async () => {
      await sleep(100)
      finished = true
    })
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 3600, context, log })
    loop.start()
    await sleep(20)
    const pending = loop.refresh()
    await loop.close()
    assert.equal(finished, true, 'the write in progress finished')
    await assert.rejects(pending, /stopped/)
  })
})
