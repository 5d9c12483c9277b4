// The scale benchmark of issue #6: builds (or reuses) a real Kubo repository with N pins,
// starts the ipfs-kit manager on a copy of it, and measures, in one run, each figure as a ratio
// against a reference taken in the same run. Writes the table for N into docs/BENCHMARKS.md.
//
// Usage: npm run bench -- --pins <N>[,<N>...] [--runs 5] [--cpu-seconds 300] [--no-write]
// Needs `npm ci` (dev dependencies) and a Kubo binary (scripts/ensure-kubo.mjs finds or builds one).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '4154' },
    runs: { type: 'string', default: '5' },
    'cpu-seconds': { type: 'string', default: '300' },
    'no-write': { type: 'boolean' },
    dir: { type: 'string' },
  },
})
const runs = Number(values.runs)
const cpuSeconds = Number(values['cpu-seconds'])
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')

const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()
const log = (m) => process.stderr.write(`bench: ${m}\n`)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function run(cmd, args, env, { input, ignoreOutput = false } = {}) {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, {
    env,
    input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['pipe', ignoreOutput ? 'ignore' : 'pipe', 'pipe'],
  })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return { ms, stdout: r.stdout ?? '', stderr: r.stderr }
}

/** Runs each case `runs` times, interleaved, and returns the median wall time of each. */
function timeCases(cases) {
  const times = cases.map(() => [])
  for (let i = 0; i < runs; i++) {
    for (const [j, c] of cases.entries()) times[j].push(run(c.cmd, c.args, c.env, { ignoreOutput: true }).ms)
  }
  return cases.map((c, j) => ({ name: c.name, ms: median(times[j]) }))
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}
function totalTicks() {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  return first
    .split(/\s+/)
    .slice(1)
    .reduce((s, v) => s + (Number(v) || 0), 0)
}
function peakRss(pid) {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : null
}

async function bench(pins) {
  const repo = await makeRepo({
    pins,
    dir: cacheDir,
    bin: kubo.path,
    log: (m) => process.stderr.write(`${m}\n`),
  })
  const work = mkdtempSync('/tmp/ipfs-kit-bench-run-')
  const ipfsPath = join(work, 'ipfs')
  cpSync(repo, ipfsPath, { recursive: true })
  const env = {
    ...process.env,
    IPFS_PATH: ipfsPath,
    IPFS_KIT_PATH: join(work, 'kit'),
    IPFS_KIT_IPFS_BIN: kubo.path,
    IPFS_KIT_HTTP_LISTEN: '127.0.0.1:0',
    IPFS_KIT_PROXY_LISTEN: '127.0.0.1:0',
  }
  const kit = (args, opts) => run(process.execPath, [CLI, ...args], env, opts)
  const ipfs = (args, opts) => run(kubo.path, args, env, opts)
  const results = { pins, rows: [] }
  const row = (what, value, reference, target, note = '') =>
    results.rows.push({ what, value, reference, target, note })
  try {
    const start = kit(['daemon', 'start', '--offline'])
    log(`${pins}: daemon ready in ${(start.ms / 1000).toFixed(1)} s`)
    const status = JSON.parse(kit(['daemon', 'status', '--json']).stdout)
    const managerPid = status.manager.pid
    const middle = (() => {
      const all = kit(['pin', 'list', '--limit', '0', '--ndjson']).stdout.trim().split('\n')
      return JSON.parse(all[Math.floor(all.length / 2)]).cid
    })()

    // 1. CLI queries against the cost of starting Node at all.
    const nodeCase = { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'], env }
    const q = (name, args) => ({ name, cmd: process.execPath, args: [CLI, ...args], env })
    const cli = timeCases([
      nodeCase,
      q('pin list --limit 10', ['pin', 'list', '--limit', '10']),
      q('pin list --cid <middle>', ['pin', 'list', '--cid', middle]),
      q('pin list --type direct --limit 10', ['pin', 'list', '--type', 'direct', '--limit', '10']),
      q('pin list --name bench-name-5 --limit 10', [
        'pin',
        'list',
        '--name',
        'bench-name-5',
        '--limit',
        '10',
      ]),
      q('daemon status', ['daemon', 'status']),
    ])
    const base = cli[0].ms
    for (const c of cli.slice(1)) {
      row(
        `\`ipfs-kit ${c.name}\``,
        `${c.ms.toFixed(0)} ms`,
        `${(c.ms / base).toFixed(2)}x node -e 0 (${base.toFixed(0)} ms)`,
        '≤ 1.5x',
        c.ms / base <= 1.5 ? 'met' : 'NOT met',
      )
    }

    // 2. The same answers from Kubo, against ours.
    const kuboVsOurs = timeCases([
      { name: 'ipfs pin ls --type=recursive', cmd: kubo.path, args: ['pin', 'ls', '--type=recursive'], env },
      q('pin list --type recursive --limit 0 --ndjson', [
        'pin',
        'list',
        '--type',
        'recursive',
        '--limit',
        '0',
        '--ndjson',
      ]),
      { name: `ipfs pin ls <cid>`, cmd: kubo.path, args: ['pin', 'ls', middle], env },
      q('pin list --cid <middle>', ['pin', 'list', '--cid', middle]),
      { name: 'ipfs repo stat', cmd: kubo.path, args: ['repo', 'stat'], env },
      q('daemon status', ['daemon', 'status']),
    ])
    for (let i = 0; i < kuboVsOurs.length; i += 2) {
      const k = kuboVsOurs[i]
      const o = kuboVsOurs[i + 1]
      const ratio =
        o.ms < k.ms ? `ours ${(k.ms / o.ms).toFixed(1)}x faster` : `Kubo ${(o.ms / k.ms).toFixed(1)}x faster`
      row(
        `\`${k.name}\` vs \`ipfs-kit ${o.name}\``,
        `${o.ms.toFixed(0)} ms (ours)`,
        `${k.ms.toFixed(0)} ms (Kubo): ${ratio}`,
        'faster',
        o.ms < k.ms ? 'met' : 'NOT met',
      )
    }

    // 3. A full index cycle (the pinset changed) against reading the raw RPC stream alone.
    const api = readFileSync(join(ipfsPath, 'api'), 'utf8').trim().split('/')
    // In this process: the reference is the stream itself, not the start of a Node process.
    const rawStream = async () => {
      const t0 = performance.now()
      for (const type of ['recursive', 'direct']) {
        const res = await fetch(
          `http://${api[2]}:${api[4]}/api/v0/pin/ls?stream=true&names=true&type=${type}`,
          {
            method: 'POST',
          },
        )
        for await (const _ of res.body) {
          // read to the end, as the collector does
        }
      }
      return performance.now() - t0
    }
    const rawTimes = []
    const cycleTimes = []
    for (let i = 0; i < runs; i++) {
      rawTimes.push(await rawStream())
      ipfs(['block', 'put', '--pin=true', '--cid-codec=raw'], { input: `bench cycle ${Date.now()} ${i}` })
      kit(['index', 'refresh'])
      const s = JSON.parse(kit(['index', 'status', '--json']).stdout)
      cycleTimes.push(s.collectors.pins.last_duration_ms)
    }
    const rawMs = median(rawTimes)
    const cycleMs = median(cycleTimes)
    row(
      'full pin index cycle (pinset changed)',
      `${cycleMs.toFixed(0)} ms`,
      `${(cycleMs / rawMs).toFixed(2)}x the raw pin/ls stream (${rawMs.toFixed(0)} ms)`,
      '≤ 1.5x',
      cycleMs / rawMs <= 1.5 ? 'met' : 'NOT met',
    )
    const peak = peakRss(managerPid)
    row(
      'manager peak resident memory',
      `${(peak / 1048576).toFixed(0)} MiB`,
      'VmHWM of the manager process',
      '≤ 400 MB',
      peak <= 400e6 ? 'met' : 'NOT met',
    )

    // 4. An unchanged pinset: no rewrite.
    const pinsFile = join(env.IPFS_KIT_PATH, 'pin_metadata/parquet_storage/pins.parquet')
    const before = statSync(pinsFile).mtimeMs
    kit(['index', 'refresh'])
    const unchanged = JSON.parse(kit(['index', 'status', '--json']).stdout).collectors.pins
    const rewritten = statSync(pinsFile).mtimeMs !== before
    row(
      'unchanged-pinset cycle',
      `${unchanged.last_duration_ms} ms`,
      rewritten ? 'pins.parquet was rewritten' : 'pins.parquet not rewritten (mtime unchanged)',
      'no rewrite',
      rewritten ? 'NOT met' : 'met',
    )

    // 5. Pin add: from Kubo's confirmation to the CID answering in pin list --cid.
    const latencies = []
    for (let i = 0; i < runs; i++) {
      const cid = ipfs(['block', 'put', '--cid-codec=raw'], {
        input: `bench add ${Date.now()} ${i}`,
      }).stdout.trim()
      const added = JSON.parse(kit(['pin', 'add', '--json', cid]).stdout)
      const t0 = performance.now()
      const listed = JSON.parse(kit(['pin', 'list', '--json', '--cid', cid]).stdout)
      if (listed.pins.length !== 1 || listed.source !== 'index')
        throw new Error(`pin add: ${cid} not in the index`)
      latencies.push(added.refresh_ms + (performance.now() - t0))
    }
    const addMs = median(latencies)
    row(
      '`pin add` visible in `pin list --cid`',
      `${addMs.toFixed(0)} ms`,
      'after Kubo confirmed the pin (recorded in the delta + one query)',
      '≤ 1 s',
      addMs <= 1000 ? 'met' : 'NOT met',
    )

    // 6. Size on disk.
    const size = statSync(pinsFile).size
    row(
      'pins.parquet size',
      `${(size / 1048576).toFixed(1)} MiB`,
      `${(size / pins).toFixed(1)} bytes per pin`,
      '',
      '',
    )

    // 7. The manager's CPU with the default interval, over cpuSeconds.
    if (cpuSeconds > 0) {
      const p0 = cpuTicks(managerPid)
      const t0 = totalTicks()
      await sleep(cpuSeconds * 1000)
      const share = ((cpuTicks(managerPid) - p0) / ((totalTicks() - t0) / cpus().length)) * 100
      row(
        `manager CPU over ${cpuSeconds} s (interval 30 s, unchanged pinset)`,
        `${share.toFixed(2)}% of one core`,
        '/proc ticks of the manager against all ticks per core',
        '≤ 5%',
        share <= 5 ? 'met' : 'NOT met',
      )
    }
  } finally {
    try {
      kit(['daemon', 'stop'])
    } catch (err) {
      log(`stop failed: ${err.message}`)
    }
    rmSync(work, { recursive: true, force: true })
  }
  return results
}

function table(r) {
  const lines = [
    `### ${r.pins.toLocaleString('en')} pins`,
    '',
    '| what | ours | reference (same run) | target | |',
    '|---|---:|---|---|---|',
    ...r.rows.map((x) => `| ${x.what} | ${x.value} | ${x.reference} | ${x.target} | ${x.note} |`),
  ]
  return lines.join('\n')
}

const sizes = values.pins.split(',').map(Number)
const command = `npm run bench -- --pins ${values.pins} --runs ${runs} --cpu-seconds ${cpuSeconds}`
const header = [
  `Command: \`${command}\``,
  '',
  `${new Date().toISOString().slice(0, 10)}, ${cpus().length} vCPU (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Kubo ${kubo.version}; medians of ${runs} runs.`,
].join('\n')
/** Puts the table for one N into docs/BENCHMARKS.md, replacing an older one for the same N. */
function writeSection(n, t) {
  const doc = join(root, 'docs/BENCHMARKS.md')
  let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n'
  const begin = '<!-- bench:scale:begin -->'
  const end = '<!-- bench:scale:end -->'
  if (!text.includes(begin)) text += `\n## Scale: ipfs-kit at N pins (issue #6)\n\n${begin}\n${end}\n`
  const [pre, rest] = text.split(begin)
  const [old, post] = rest.split(end)
  const sections = new Map()
  for (const m of old.matchAll(/<!-- n=(\d+) -->\n([\s\S]*?)<!-- \/n -->/g)) sections.set(Number(m[1]), m[2])
  sections.set(n, `${header}\n\n${t}\n`)
  const body = [...sections.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => `<!-- n=${k} -->\n${v}<!-- /n -->`)
    .join('\n\n')
  writeFileSync(doc, `${pre}${begin}\n${body}\n${end}${post}`)
  log(`wrote the ${n}-pin table to ${doc}`)
}

// Each size is written as soon as it is measured, so a failure at a larger size keeps the rest.
for (const n of sizes) {
  const t = table(await bench(n))
  console.log(`\n${t}\n`)
  if (!values['no-write']) writeSection(n, t)
}
