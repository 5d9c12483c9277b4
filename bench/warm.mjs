// Warm queries (src/cli/warm.ts) at scale, in one run: the manager running on a copy of the
// N-pin repository of bench/make-repo.mjs (offline), then each query answered by the running
// manager ("warm") and by the CLI on its own from the same files (IPFS_KIT_NO_WARM=1, "cold"),
// interleaved with `node -e 0` and Kubo's own `ipfs pin ls <cid>`, medians of --runs. Each warm
// query is first checked to be answered by the manager (IPFS_KIT_DEBUG=1), and its output to be
// the cold one's.
//
// History: a day and a half of network history at a 30 s interval, written for this node's peer
// ID before the manager starts (as bench/history.mjs writes it, with the manager's own writer),
// and 50 pins added through ipfs-kit after the first index, so that `pin list --since <t>` (t
// after the first index) takes the path `--since 1h` takes on a node indexed for over an hour:
// pins_recent.parquet (the pins first seen in the last week) says which pins. With --recent N, N
// more pins are added straight through Kubo (a busy node: more than the 1,000 pins the footer of
// pins.parquet lists for `storage report`'s last day).
//
// Background indexing is paused while the queries are timed (see below).
//
// Usage: npm run build && node bench/warm.mjs [--pins 1000000] [--runs 11] [--content-budget-s 3600]
//   [--full-runs 3] [--datastore pebbleds|flatfs] [--recent 0]
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '11' },
    dir: { type: 'string' },
    // Examine every pin before the queries (a budget of this many seconds a cycle), so that
    // `storage report` and `pin list --sort size` meet a full content index; 0: the default budget.
    'content-budget-s': { type: 'string', default: '3600' },
    // Full listings timed against Kubo's `ipfs pin ls --type=recursive` (issue #18: at most 0.5x).
    'full-runs': { type: 'string', default: '3' },
    // The repository's datastore (make-repo.mjs): flatfs is Kubo's default.
    datastore: { type: 'string', default: 'pebbleds' },
    // Pins added through Kubo after the first index, besides the 50 through ipfs-kit.
    recent: { type: 'string', default: '0' },
  },
})
const N = Number(values.pins)
const RUNS = Number(values.runs)
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')

const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const { DayLogWriter } = await import(join(root, 'dist/src/indexer/day-log.js'))
const { DAY_LOG_COLUMNS } = await import(join(root, 'dist/src/store/layout.js'))
const kubo = await resolveKuboBinary()
const repo = await makeRepo({ pins: N, datastore: values.datastore, dir: cacheDir, bin: kubo.path, log })
const work = mkdtempSync('/tmp/ipfs-kit-bench-warm-')
const ipfsPath = join(work, 'ipfs')
const kitPath = join(work, 'kit')
log(`copying the ${N}-pin repository`)
cpSync(repo, ipfsPath, { recursive: true })
const peerId = JSON.parse(readFileSync(join(ipfsPath, 'config'), 'utf8')).Identity.PeerID
const env = {
  ...process.env,
  IPFS_PATH: ipfsPath,
  IPFS_KIT_PATH: kitPath,
  IPFS_KIT_IPFS_BIN: kubo.path,
  IPFS_KIT_HTTP_LISTEN: '127.0.0.1:0',
  IPFS_KIT_PROXY_LISTEN: '127.0.0.1:0',
}
const contentBudgetS = Number(values['content-budget-s'])
if (contentBudgetS > 0) env.IPFS_KIT_CONTENT_BUDGET_MS = String(contentBudgetS * 1000)
delete env.IPFS_KIT_NO_WARM
delete env.IPFS_KIT_DEBUG

function run(cmd, args, extra = {}, input) {
  const r = spawnSync(cmd, args, {
    env: { ...env, ...extra },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...(input !== undefined ? { input } : {}),
  })
  if (r.error) throw r.error
  return r
}
const kit = (args, extra) => run(process.execPath, [CLI, ...args], extra)

// A day and a half of network history, 2880 rows a day (the manager appends its own after).
const DAY = 86_400_000
const now = Date.now()
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const w = new DayLogWriter({
  kitPath,
  kind: 'history_network',
  writer: 'ipfs-kit 0.1.0',
  log: quiet,
  retentionMs: () => 31 * DAY,
})
for (let day = 1; day >= 0; day--) {
  const start = Math.floor((now - day * DAY) / DAY) * DAY
  const rows = []
  for (let t = start; t < Math.min(start + DAY, now - 60_000); t += 30_000) {
    const row = Object.fromEntries(DAY_LOG_COLUMNS.history_network.map((c) => [c.name, null]))
    for (const c of DAY_LOG_COLUMNS.history_network) {
      if (c.type === 'INT64') row[c.name] = Math.floor(1e6 + (t % 1e6) + Math.random() * 1e5)
      else if (c.type === 'DOUBLE') row[c.name] = Math.random() * 100
      else if (c.type === 'BOOLEAN') row[c.name] = true
      else if (c.type === 'STRING') row[c.name] = 'kubo 0.43.1'
    }
    row.collected_at = new Date(t)
    rows.push(row)
  }
  await w.append({ peerId, kuboVersion: kubo.version }, rows)
}

try {
  log('starting the manager (the first index of every pin)')
  const t0 = performance.now()
  const start = kit(['daemon', 'start', '--offline'])
  // With a large content budget the first full cycle examines every pin, longer than `daemon
  // start` waits: the manager goes on starting, and is waited for here.
  if (start.status !== 0 && !/goes on starting in the background/.test(start.stderr))
    throw new Error(`daemon start: ${start.stderr}`)
  while (!JSON.parse(kit(['daemon', 'status', '--json']).stdout).manager?.ready)
    await new Promise((r) => setTimeout(r, 5000))
  log(`manager ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  let fill = ''
  if (contentBudgetS > 0) {
    // The content collector examines every pin (dag stat, root block, MIME type) in the cycles
    // after the first index; wait for the last one.
    for (;;) {
      const c = JSON.parse(kit(['index', 'status', '--json']).stdout).content
      if (c && c.total > 0 && c.examined >= c.total) break
      await new Promise((r) => setTimeout(r, 5000))
    }
    const s = (performance.now() - t0) / 1000
    fill = `every pin examined ${s.toFixed(0)} s after \`daemon start\` (the first index included), ${(N / s).toFixed(0)} pins/s`
    log(fill)
  }
  // 50 pins through ipfs-kit after the first index: the pin events since then name them.
  const afterBaseline = new Date(Date.now() + 1000).toISOString()
  await new Promise((r) => setTimeout(r, 1500))
  for (let i = 0; i < 50; i++) {
    const put = run(kubo.path, ['block', 'put', '--cid-codec=raw'], {}, `warm bench ${now} ${i}`)
    const added = kit(['pin', 'add', put.stdout.trim()])
    if (added.status !== 0) throw new Error(`pin add: ${added.stderr}`)
  }
  const recent = Number(values.recent)
  if (recent > 0) {
    const folder = join(work, 'recent')
    mkdirSync(folder)
    const files = Array.from({ length: recent }, (_, i) => {
      const f = join(folder, `b${i}`)
      writeFileSync(f, `warm bench recent ${now} ${i}`)
      return f
    })
    for (let i = 0; i < files.length; i += 1000) {
      const put = run(kubo.path, [
        'block',
        'put',
        '--cid-codec=raw',
        '--pin=true',
        ...files.slice(i, i + 1000),
      ])
      if (put.status !== 0) throw new Error(`block put --pin: ${put.stderr}`)
    }
    log(`${recent} more pins added through Kubo`)
  }
  // The query costs alone: background indexing paused (the files stay; `index stop`), once no
  // cycle runs. A cycle at this size takes seconds of both cores (the listing, the content
  // examination), which would slow every case, warm, cold and node -e 0 alike, by chance.
  const refreshed = kit(['index', 'refresh'])
  if (refreshed.status !== 0) throw new Error(`index refresh: ${refreshed.stderr}`)
  kit(['index', 'stop'])
  for (let i = 0; i < 600 && JSON.parse(kit(['index', 'status', '--json']).stdout).cycle_running; i++)
    await new Promise((r) => setTimeout(r, 500))
  const middle = (() => {
    const r = kit(['pin', 'list', '--limit', '0', '--ndjson'])
    const lines = r.stdout.trim().split('\n')
    return JSON.parse(lines[Math.floor(lines.length / 2)]).cid
  })()

  const queries = {
    'pin list --cid <middle>': ['pin', 'list', '--cid', middle],
    'pin list --limit 10': ['pin', 'list', '--limit', '10'],
    'daemon status': ['daemon', 'status'],
    'state history network --since 24h': ['state', 'history', 'network', '--since', '24h', '--json'],
    'pin list --since <after the first index>': ['pin', 'list', '--since', afterBaseline, '--json'],
    'storage report': ['storage', 'report'],
    'pin list --sort size --limit 10': ['pin', 'list', '--sort', 'size', '--limit', '10'],
  }
  // Each warm answer is the manager's, and prints what the CLI prints on its own.
  const shown = {}
  for (const [name, args] of Object.entries(queries)) {
    const dbg = kit(args, { IPFS_KIT_DEBUG: '1' })
    if (!/^ipfs-kit: debug: answered by the running manager/.test(dbg.stderr))
      throw new Error(`${name}: not answered by the manager: ${dbg.stderr}`)
    const warm = kit(args)
    const cold = kit(args, { IPFS_KIT_NO_WARM: '1' })
    const age = (s) => s.replace(/\d+ (s|min|h) ago/g, 'N ago').replace(/"since": ?"[^"]*"/, '')
    if (warm.status !== cold.status || (!name.startsWith('daemon') && age(warm.stdout) !== age(cold.stdout)))
      throw new Error(`${name}: the manager's answer differs from the CLI's`)
    try {
      const j = JSON.parse(warm.stdout)
      shown[name] = `${(j.rows ?? j.pins).length} rows`
    } catch {
      shown[name] = `${warm.stdout.trim().split('\n').length} lines`
    }
  }
  const cases = [
    ['node -e 0', process.execPath, ['-e', '0'], {}],
    ['ipfs pin ls <middle> (Kubo)', kubo.path, ['pin', 'ls', middle], {}],
  ]
  for (const [name, args] of Object.entries(queries)) {
    cases.push([`${name} (warm)`, process.execPath, [CLI, ...args], {}])
    cases.push([`${name} (cold)`, process.execPath, [CLI, ...args], { IPFS_KIT_NO_WARM: '1' }])
  }
  const times = cases.map(() => [])
  for (let r = 0; r < RUNS; r++)
    for (const [j, [, cmd, args, extra]] of cases.entries()) {
      const t = performance.now()
      run(cmd, args, extra)
      times[j].push(performance.now() - t)
    }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const base = median(times[0])
  const kuboMs = median(times[1])
  console.log(
    `${N.toLocaleString('en')} pins (+50), medians of ${RUNS} interleaved runs; node -e 0: ${base.toFixed(0)} ms\n`,
  )
  if (fill) console.log(`Content: ${fill}.\n`)
  console.log('| command | ms | ratio to `node -e 0` | answer |\n| --- | --: | --: | --- |')
  for (const [j, [name]] of cases.entries()) {
    if (j === 0) continue
    const ms = median(times[j])
    const q = name.replace(/ \((warm|cold|Kubo)\)$/, '')
    const vsKubo = name.startsWith('pin list --cid')
      ? `; Kubo's pin ls ${(kuboMs / ms).toFixed(2)}x this`
      : ''
    console.log(
      `| \`${name}\` | ${ms.toFixed(0)} | ${(ms / base).toFixed(2)}x${vsKubo} | ${shown[q] ?? ''} |`,
    )
  }

  // The full listing, cold (the manager does not answer a listing of every pin), against Kubo's
  // own, interleaved; both written to a pipe this process drains.
  const fullCases = [
    ['ipfs pin ls --type=recursive (Kubo)', kubo.path, ['pin', 'ls', '--type=recursive'], {}],
    [
      'ipfs-kit pin list --type recursive --limit 0 --ndjson',
      process.execPath,
      [CLI, 'pin', 'list', '--type', 'recursive', '--limit', '0', '--ndjson'],
      {},
    ],
  ]
  const fullTimes = fullCases.map(() => [])
  const lineCounts = fullCases.map(() => 0)
  for (let r = 0; r < Number(values['full-runs']); r++)
    for (const [j, [, cmd, args, extra]] of fullCases.entries()) {
      const t = performance.now()
      const out = run(cmd, args, extra)
      fullTimes[j].push(performance.now() - t)
      if (out.status !== 0) throw new Error(`${fullCases[j][0]}: ${out.stderr}`)
      lineCounts[j] = out.stdout.split('\n').filter(Boolean).length
    }
  const [kuboFull, oursFull] = fullTimes.map(median)
  console.log(
    `\nFull listing, medians of ${values['full-runs']} interleaved runs: Kubo's \`ipfs pin ls --type=recursive\` ${kuboFull.toFixed(0)} ms (${lineCounts[0]} lines), \`ipfs-kit pin list --type recursive --limit 0 --ndjson\` ${oursFull.toFixed(0)} ms (${lineCounts[1]} lines, with size, kind and MIME): ${(oursFull / kuboFull).toFixed(2)}x Kubo's.`,
  )
} finally {
  kit(['daemon', 'stop'])
  rmSync(work, { recursive: true, force: true })
}
