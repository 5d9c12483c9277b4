// History at scale (issue #14), in one run:
// 1. a month of history at a 30 s interval: the day logs of all four state kinds, written by
//    the manager's own DayLogWriter (a day per append: the file a day of cycles leaves), and
//    their size on disk;
// 2. the pinset diff of a cycle at N pins (PinHistory.cycle: merge of two sorted listings of N
//    CIDs, 100 changed), against the time a listing of N takes (measured by the caller as Kubo's
//    pin/ls; here the merge alone is timed, the listing is in BENCHMARKS.md);
// 3. `state history network --since 24h` and `pin list --since 1h` on that index, against
//    `node -e 0`, interleaved, medians.
// The index files are written for a real repository's peer ID (`ipfs init` in a temporary
// folder; no daemon is needed, the CLI reads the peer ID from the repository's config).
//
// Usage: npm run build && node bench/history.mjs [--pins 1000000] [--runs 11]
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { DayLogWriter } from '../dist/src/indexer/day-log.js'
import { PinHistory } from '../dist/src/indexer/pin-history.js'
import { resolveKuboBinary } from '../dist/src/kubo/binary.js'
import { DAY_LOG_COLUMNS, dayLogDir, indexFilePath, PINS_META } from '../dist/src/store/layout.js'
import { PINS_SCHEMA_VERSION, PINS_WRITE_OPTIONS, pinsColumns } from '../dist/src/store/pins-format.js'
import { writeIndexFileAtomic } from '../dist/src/store/writer.js'

const { values } = parseArgs({
  options: { pins: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '11' } },
})
const N = Number(values.pins)
const RUNS = Number(values.runs)
const root = mkdtempSync(join(tmpdir(), 'ipfs-kit-bench-history-'))
const kitPath = join(root, 'kit')
const ipfsPath = join(root, 'ipfs')
const kubo = await resolveKuboBinary()
execFileSync(kubo.path, ['init', '--profile', 'test'], {
  env: { ...process.env, IPFS_PATH: ipfsPath },
  stdio: 'ignore',
})
const peerId = execFileSync(kubo.path, ['config', 'Identity.PeerID'], {
  env: { ...process.env, IPFS_PATH: ipfsPath },
})
  .toString()
  .trim()
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const ctx = { peerId, kuboVersion: kubo.version }
const now = Date.now()
const DAY = 86_400_000

// 1. A month of history, 2880 rows a day per kind, values that move like a node's.
const perDay = DAY / 30_000
const t1 = performance.now()
for (const kind of ['history_system', 'history_network', 'history_storage', 'history_files']) {
  const w = new DayLogWriter({
    kitPath,
    kind,
    writer: 'ipfs-kit 0.1.0',
    log: quiet,
    retentionMs: () => 31 * DAY,
  })
  for (let day = 29; day >= 0; day--) {
    const rows = []
    const start = Math.floor((now - day * DAY) / DAY) * DAY
    for (let i = 0; i < perDay; i++) {
      const t = start + i * 30_000
      if (t > now) break
      const row = Object.fromEntries(DAY_LOG_COLUMNS[kind].map((c) => [c.name, null]))
      for (const c of DAY_LOG_COLUMNS[kind]) {
        if (c.type === 'INT64') row[c.name] = Math.floor(1e6 + i * 137 + Math.random() * 1e5)
        else if (c.type === 'DOUBLE') row[c.name] = Math.random() * 100
        else if (c.type === 'BOOLEAN') row[c.name] = true
        else if (c.type === 'STRING')
          row[c.name] =
            c.name === 'mfs_root_cid' ? 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn' : 'kubo 0.43.1'
      }
      row.collected_at = new Date(t)
      rows.push(row)
    }
    await w.append(ctx, rows)
  }
}
const historyMs = performance.now() - t1
const du = (dir) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0])
const historyBytes = du(join(kitPath, 'program_state', 'history'))

// 2. The diff of a cycle at N pins: the last listing and this one, 100 pins apart.
const cids = []
for (let i = 0; i < N + 50; i++)
  cids.push(CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`p${i}`))).toString())
cids.sort()
const before = cids.slice(0, N)
const afterSet = cids.slice(50)
const listing = (list) => ({
  cids: list,
  recursive: new Uint8Array(list.length).fill(1),
  names: new Array(list.length).fill(null),
})
const events = new DayLogWriter({
  kitPath,
  kind: 'pin_events',
  writer: 'ipfs-kit 0.1.0',
  log: quiet,
  retentionMs: () => 31 * DAY,
})
const history = new PinHistory({ kitPath, events, log: quiet })
await history.cycle(ctx, listing(before), 0, new Date(now - 3_600_000 * 2)) // the baseline
const t2 = performance.now()
const diff = await history.cycle(ctx, listing(afterSet), 0, new Date(now - 600_000))
const diffMs = performance.now() - t2

// pins.parquet of the later listing with its first_seen, for `pin list --since 1h`.
const firstSeen = Array.from(diff.firstSeen, (t) => new Date(t))
await writeIndexFileAtomic(
  indexFilePath(kitPath, 'pins'),
  {
    kind: 'pins',
    schemaVersion: PINS_SCHEMA_VERSION,
    writer: 'ipfs-kit 0.1.0',
    peerId,
    kuboVersion: kubo.version,
    generatedAt: new Date(),
    extra: {
      [PINS_META.deltaSeq]: '0',
      [PINS_META.countRecursive]: String(afterSet.length),
      [PINS_META.countDirect]: '0',
      [PINS_META.pinsetSha256]: 'bench',
      [PINS_META.baselineAt]: diff.baselineAt.toISOString(),
    },
  },
  {
    rowCount: afterSet.length,
    slice: (s, e) =>
      pinsColumns(
        afterSet.slice(s, e),
        afterSet.slice(s, e).map(() => 'recursive'),
        afterSet.slice(s, e).map(() => null),
        firstSeen.slice(s, e),
        Array.from(diff.exact.subarray(s, e), (x) => x === 1),
      ),
  },
  PINS_WRITE_OPTIONS,
)

// 3. The CLI, interleaved with node -e 0.
const env = { ...process.env, IPFS_KIT_PATH: kitPath, IPFS_PATH: ipfsPath }
const cli = join(import.meta.dirname, '..', 'bin', 'ipfs-kit.cjs')
const commands = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'state history network --since 24h': [
    process.execPath,
    [cli, 'state', 'history', 'network', '--since', '24h', '--json'],
  ],
  'pin list --since 1h': [process.execPath, [cli, 'pin', 'list', '--since', '1h', '--json']],
}
// Before the baseline every pin is read (the events cannot say it): seconds of work, timed in a
// loop of its own, after the others, so that it does not slow the `node -e 0` runs beside them
// (it did, which made the ratios look better than they were).
const slow = {
  'pin list --since 3h': [process.execPath, [cli, 'pin', 'list', '--since', '3h', '--limit', '10', '--json']],
}
const times = Object.fromEntries([...Object.keys(commands), ...Object.keys(slow)].map((k) => [k, []]))
for (const [loop, runs] of [
  [commands, RUNS],
  [slow, 3],
])
  for (let r = 0; r < runs; r++) {
    for (const [name, [cmd, args]] of Object.entries(loop)) {
      const t = performance.now()
      const out = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 })
      times[name].push(performance.now() - t)
      if (out.status !== 0) throw new Error(`${name}: exit ${out.status}: ${out.stderr}`)
      if (r === 0 && name !== 'node -e 0') {
        const json = JSON.parse(out.stdout)
        const n = json.rows?.length ?? json.pins?.length
        console.log(`# ${name}: ${n} rows`)
      }
    }
  }
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
const base = median(times['node -e 0'])
console.log(`\n| measure | value |\n| --- | --- |`)
console.log(
  `| a month of history (4 kinds, 30 s interval, ${(perDay * 30).toFixed(0)} rows each) on disk | ${(historyBytes / 1e6).toFixed(1)} MB (written in ${(historyMs / 1000).toFixed(1)} s) |`,
)
console.log(
  `| pinset diff at ${N.toLocaleString('en')} pins (50 added, 50 removed), events written | ${diffMs.toFixed(0)} ms (${diff.added} added, ${diff.removed} removed) |`,
)
for (const name of [...Object.keys(commands), ...Object.keys(slow)]) {
  const m = median(times[name])
  console.log(
    `| ${name} (median of ${times[name].length}) | ${m.toFixed(0)} ms${name === 'node -e 0' ? '' : `, ${(m / base).toFixed(2)}x node -e 0`} |`,
  )
}
console.log(`\n# history folder: ${dayLogDir(kitPath, 'history_network')}`)
