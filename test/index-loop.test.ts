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
/** Simulated work of a collector (a duration the test measures, not a wait for an event). */
const work = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A promise and the function that resolves it: a test opens it when it is ready. */
function gate() {
  let open: () => void = () => {}
  const opened = new Promise<void>((r) => {
    open = r
  })
  return { opened, open }
}

/**
 * A collector that counts its runs; `finished(n)` resolves once the nth run has ended (the
 * event a test waits on, bounded by a timeout, instead of sleeping and hoping).
 */
function counting(name: string, behaviour: (n: number) => Promise<void> | void = () => {}) {
  const calls: number[] = []
  let running = 0
  let maxRunning = 0
  let done = 0
  const waiters: Array<{ n: number; resolve: () => void }> = []
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
        done++
        for (const w of waiters.filter((w) => w.n <= done)) w.resolve()
      }
    },
  }
  const finished = (n: number, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (done >= n) return resolve()
      const timer = setTimeout(
        () => reject(new Error(`${name}: run ${n} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      )
      waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  return { collector, calls, maxRunning: () => maxRunning, finished }
}

describe('IndexLoop', () => {
  it('runs at once, then never overlaps cycles even when refresh is asked during one', async () => {
    const slow = counting('slow', () => work(150))
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
    const started = gate()
    const release = gate()
    const slow = counting('slow', async (n) => {
      if (n > 1) return
      started.open()
      await release.opened
    })
    const loop = new IndexLoop({ collectors: [slow.collector], intervalS: 3600, context, log })
    loop.start()
    await started.opened // cycle 1 is running
    const pending = loop.refresh()
    release.open()
    const r = await pending
    assert.equal(r.cycle, 2)
    assert.deepEqual(slow.calls, [1, 2])
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
    // The loop counts a failure once the run has ended: after the fourth run, three are counted.
    await broken.finished(4)
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
    // The second cycle holds until the test has paused the loop: a pause during a cycle.
    const second = gate()
    const release = gate()
    const c = counting('pins', async (n) => {
      if (n !== 2) return
      second.open()
      await release.opened
    })
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 0.05, context, log })
    loop.start()
    await second.opened
    loop.pause()
    release.open()
    await c.finished(2) // the cycle under way finishes
    const paused = c.calls.length
    const st = loop.status()
    assert.equal(st.running, false)
    assert.equal(st.next_cycle_at, null, 'nothing is scheduled while paused')
    await loop.refresh()
    assert.equal(c.calls.length, paused + 1, 'refresh runs while paused, once')
    assert.equal(loop.status().next_cycle_at, null, 'and leaves nothing scheduled')
    loop.resume()
    await c.finished(paused + 3)
    await loop.close()
  })

  it('stretches the interval when a cycle takes more than a tenth of it, and says why', async () => {
    const c = counting('slow', () => work(60))
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

  it('a collector with a budget of its own neither stretches the interval nor pushes the next cycle back', async () => {
    // The content collector's shape: quick pins, then a budgeted run of 0.2 of a 0.5 s interval.
    const quick = counting('pins')
    const budgeted = counting('content', () => work(200))
    budgeted.collector.budgeted = true
    const loop = new IndexLoop({
      collectors: [quick.collector, budgeted.collector],
      intervalS: 0.5,
      context,
      log,
    })
    const starts: number[] = []
    const collector = quick.collector
    const run = collector.run.bind(collector)
    collector.run = (ctx) => {
      starts.push(performance.now())
      return run(ctx)
    }
    loop.start()
    await quick.finished(4)
    await loop.close()
    const st = loop.status()
    assert.ok((st.last_cycle?.duration_ms ?? 0) >= 190, 'each cycle holds the budgeted run')
    assert.equal(st.effective_interval_s, 0.5, 'not stretched by the budgeted run')
    assert.equal(st.stretched_reason, null)
    // The cycles start an interval apart (0.5 s), not an interval after the budgeted run ends
    // (0.7 s and more).
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number))
    for (const gap of gaps)
      assert.ok(gap >= 490 && gap < 650, `cycles ${gaps.map(Math.round).join(', ')} ms apart`)
  })

  it('close lets a running cycle finish and rejects waiting refreshes', async () => {
    let finished = false
    const started = gate()
    const release = gate()
    const c = counting('slow', async () => {
      started.open()
      await release.opened
      finished = true
    })
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 3600, context, log })
    loop.start()
    await started.opened
    const pending = loop.refresh()
    const closing = loop.close()
    release.open()
    await closing
    assert.equal(finished, true, 'the write in progress finished')
    await assert.rejects(pending, /stopped/)
  })

  it('close interrupts a cycle that waits on Kubo (a long listing) at once, through its signal', async () => {
    const started = gate()
    const listing: Collector = {
      name: 'listing',
      // A minute-long listing that honours its signal, as the pin collector's stream does.
      run: (ctx) =>
        new Promise((resolve, reject) => {
          started.open()
          const timer = setTimeout(() => resolve({ wrote: false }), 60_000)
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer)
            reject(new Error('aborted'))
          })
        }),
    }
    const c = { collector: listing }
    const loop = new IndexLoop({ collectors: [c.collector], intervalS: 3600, context, log })
    loop.start()
    await started.opened
    const t0 = performance.now()
    await loop.close()
    assert.ok(performance.now() - t0 < 2_000, `closed in ${Math.round(performance.now() - t0)} ms`)
  })
})
