// How long the manager's event loop is held up at scale (issue #18: never more than 100 ms): the
// manager started on a copy of the N-pin repository of bench/make-repo.mjs (offline), its first
// index (the pinset read back, listed, sorted, hashed, diffed, the content collector's pass),
// then a pin made with plain `ipfs block put --pin` and `index refresh` (a listing with names and
// a rewrite of pins.parquet). The figure is the manager's own: `daemon status --json`,
// manager.event_loop_delay_max_ms and _p99_ms (perf_hooks' timer-delay histogram since it
// started).
//
// Usage: npm run build && node bench/event-loop.mjs [--pins 1000000]
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo, managerCopy } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: { pins: { type: 'string', default: '1000000' }, dir: { type: 'string' } },
})
const N = Number(values.pins)
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')

const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()
const repo = await makeRepo({ pins: N, dir: cacheDir, bin: kubo.path, log })
const { work, env } = managerCopy(repo, kubo.path, 'loop', log)
const run = (cmd, args, input) => {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...(input ? { input } : {}) })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const kit = (args) => run(process.execPath, [CLI, ...args])
const loop = (what) => {
  const m = JSON.parse(kit(['daemon', 'status', '--json'])).manager
  console.log(`| ${what} | ${m.event_loop_delay_max_ms} ms | ${m.event_loop_delay_p99_ms} ms |`)
}

try {
  console.log(
    `${N.toLocaleString('en')} pins; the manager's event loop, held up at most / 99th percentile:\n`,
  )
  console.log('| after | max | p99 |\n| --- | --: | --: |')
  const t0 = performance.now()
  kit(['daemon', 'start', '--offline'])
  log(`ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  loop('the first index (start)')
  run(kubo.path, ['block', 'put', '--pin=true', '--cid-codec=raw'], `event-loop bench ${Date.now()}`)
  kit(['index', 'refresh'])
  loop('a plain pin add, then `index refresh` (pins.parquet rewritten)')
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env })
  rmSync(work, { recursive: true, force: true })
}
