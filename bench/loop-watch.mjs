// A preload for the manager that says what its main thread did while its event loop was held up:
// a timer every 5 ms; when one fires more than 60 ms late, it appends a line with how late, and,
// from the main thread's /proc schedstat (Linux), how much of that time the thread ran on a CPU
// (`run_ms`: the manager's own work, its collections included) and how much it was ready to run
// but waited for a CPU (`wait_ms`: other threads and processes had both cores), the rest asleep.
// The `gc` performance entries that overlapped the hold are counted, and their pauses of 1 ms or
// more listed.
//
// Usage (only the process started with `--foreground`, the manager, watches itself):
//   NODE_OPTIONS="--import $PWD/bench/loop-watch.mjs" LOOP_WATCH_DIR=/tmp/loop-watch \
//     node bench/event-loop.mjs --pins 1000000
// Each manager writes $LOOP_WATCH_DIR/holds-<pid>.ndjson. `to_ns` is CLOCK_MONOTONIC, the clock
// of `perf record -k CLOCK_MONOTONIC`, to find what ran in each hold (docs/BENCHMARKS.md).
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PerformanceObserver } from 'node:perf_hooks'
import { isMainThread } from 'node:worker_threads'

if (isMainThread && process.argv.includes('--foreground')) {
  const dir = process.env.LOOP_WATCH_DIR ?? '/tmp/loop-watch'
  mkdirSync(dir, { recursive: true })
  const out = join(dir, `holds-${process.pid}.ndjson`)
  const schedstat = `/proc/self/task/${process.pid}/schedstat`
  // Nanoseconds on a CPU, nanoseconds waiting for one, time slices.
  const read = () => readFileSync(schedstat, 'utf8').trim().split(' ').map(Number)
  const gcs = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.duration])
    if (gcs.length > 4096) gcs.splice(0, 2048)
  }).observe({ entryTypes: ['gc'] })
  let before = read()
  let beforeAt = performance.now()
  setInterval(() => {
    const now = performance.now()
    const after = read()
    const late = now - beforeAt - 5
    if (late > 60) {
      const inHold = gcs.filter(([s, d]) => s + d > beforeAt && s < now)
      const line = {
        to_ns: String(process.hrtime.bigint()),
        since_start_ms: Math.round(now),
        late_ms: Math.round(late),
        run_ms: Math.round((after[0] - before[0]) / 1e6),
        wait_ms: Math.round((after[1] - before[1]) / 1e6),
        // Collections that overlapped the hold: how many, and the pauses of a millisecond or more.
        gc_count: inHold.length,
        gc_ms: inHold.filter(([, d]) => d >= 1).map(([, d]) => Math.round(d)),
      }
      appendFileSync(out, `${JSON.stringify(line)}\n`)
    }
    before = after
    beforeAt = now
  }, 5).unref()
}
