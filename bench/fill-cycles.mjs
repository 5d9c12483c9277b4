// Does the content index's first fill slow the pin index down (issue #13: at most 10%)? The
// manager runs on a copy of the N-pin repository of bench/make-repo.mjs (offline) at the
// default settings but for a shorter content budget (so that the fill spans several cycles at
// this size; the budget stays a tenth of the interval, or what --budget-ms says). Every cycle
// is read from `index status --json` (its start, its duration, the pin collector's duration, how
// many pins are examined) while the fill runs and for --after cycles once it is done; the time
// between the starts of regular cycles (the pin index's period) and the pin collector's time are
// compared between the two.
//
// Usage: npm run build && node bench/fill-cycles.mjs [--pins 100000] [--interval 30]
//   [--budget-ms 1000] [--after 3] [--datastore pebbleds|flatfs]
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo, managerCopy } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '100000' },
    interval: { type: 'string', default: '30' },
    'budget-ms': { type: 'string', default: '1000' },
    after: { type: 'string', default: '3' },
    datastore: { type: 'string', default: 'pebbleds' },
  },
})
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()
const cacheDir = join(
  process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'),
  'bench',
)
const repo = await makeRepo({
  pins: Number(values.pins),
  datastore: values.datastore,
  dir: cacheDir,
  bin: kubo.path,
  log,
})
const { work, env } = managerCopy(repo, kubo.path, 'fill', log)
env.IPFS_KIT_CONTENT_BUDGET_MS = values['budget-ms']
const kit = (args) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.error) throw r.error
  return r
}

const cycles = new Map()
try {
  const start = kit(['daemon', 'start', '--offline', '--interval', values.interval])
  if (start.status !== 0 && !/goes on starting in the background/.test(start.stderr))
    throw new Error(`daemon start: ${start.stderr}`)
  let doneAt = null
  for (;;) {
    const s = JSON.parse(kit(['index', 'status', '--json']).stdout)
    const c = s.last_cycle
    if (c && !cycles.has(c.cycle)) {
      const row = {
        cycle: c.cycle,
        reason: c.reason,
        start: Date.parse(c.started_at),
        ms: c.duration_ms,
        pinsMs: s.collectors?.pins?.last_duration_ms ?? null,
        contentMs: s.collectors?.content?.last_duration_ms ?? null,
        examined: s.content?.examined ?? 0,
        total: s.content?.total ?? 0,
      }
      cycles.set(c.cycle, row)
      log(
        `cycle ${row.cycle} (${row.reason}): ${row.ms} ms, pins ${row.pinsMs} ms, content ${row.contentMs} ms, ${row.examined} of ${row.total} examined`,
      )
      if (doneAt === null && row.total > 0 && row.examined >= row.total) doneAt = row.cycle
      if (doneAt !== null && row.cycle >= doneAt + Number(values.after)) break
    }
    await new Promise((r) => setTimeout(r, 1000))
  }
  // Regular cycles only (a change seen by the watch would run one sooner), and only after a cycle
  // whose own listing did not stretch the interval: a listing longer than a tenth of the interval
  // stretches the next one by the loop's rule whatever the content step does (the first index;
  // on flatfs with LevelDB, a second listing after the datastore watch saw Kubo's own start-up
  // writes). The fill's periods end with the cycle that examined the last pins.
  const rows = [...cycles.values()].sort((a, b) => a.cycle - b.cycle)
  const fill = rows.filter((r) => r.cycle > 1 && r.cycle <= doneAt)
  const after = rows.filter((r) => r.cycle > doneAt)
  const stretching = (r) => r.pinsMs !== null && r.pinsMs >= Number(values.interval) * 100
  const periods = (set) => {
    const out = []
    for (const r of set) {
      const prev = cycles.get(r.cycle - 1)
      if (prev && !stretching(prev) && r.reason === 'the interval') out.push(r.start - prev.start)
    }
    return out
  }
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN)
  const line = (name, set) => {
    const p = periods(set)
    return `| ${name} | ${set.length} | ${p.length} | ${(mean(p) / 1000).toFixed(2)} s | ${Math.round(mean(set.map((r) => r.pinsMs)))} ms | ${Math.round(mean(set.map((r) => r.contentMs)))} ms | ${Math.round(mean(set.map((r) => r.ms)))} ms |`
  }
  const pFill = mean(periods(fill))
  const pAfter = mean(periods(after))
  process.stdout.write(
    [
      `Command: \`node bench/fill-cycles.mjs --pins ${values.pins} --interval ${values.interval} --budget-ms ${values['budget-ms']} --after ${values.after} --datastore ${values.datastore}\` (Kubo ${kubo.version}, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| cycles | how many | periods counted | time between starts | pin collector | content collector | whole cycle |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      line('during the first fill', fill),
      line('after it', after),
      '',
      `The pin index's period during the fill: ${((pFill / pAfter - 1) * 100).toFixed(1)}% longer than after it (target: at most 10%).`,
      '',
    ].join('\n'),
  )
} finally {
  kit(['daemon', 'stop'])
  rmSync(work, { recursive: true, force: true })
}
