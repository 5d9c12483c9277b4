// Freshness against cost (issue #18), on a copy of the N-pin repository of make-repo.mjs, with the
// manager's default schedule (interval 30 s, a look at the datastore every 2 s), in one run:
// - a pin made directly on Kubo (`ipfs pin add`): seconds until `ipfs-kit pin list --cid` shows
//   it (median of --changes);
// - a cycle that lists (without names, as most do), one with names (`index refresh`), against
//   Kubo's fastest complete listing (`ipfs pin ls --type=recursive -q` and `--type=direct`);
// - an idle node: the CPU the manager and Kubo use over --idle-seconds with no change, as a share
//   of one core.
// Usage: npm run build && node bench/freshness.mjs --pins 100000 [--changes 3] [--idle-seconds 300]
//        [--content-budget-s 0] [--content-wait 1200]
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo, managerCopy } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '100000' },
    changes: { type: 'string', default: '3' },
    'idle-seconds': { type: 'string', default: '300' },
    'content-wait': { type: 'string', default: '1200' },
    // The content index's budget a cycle while it fills (0: the default, 3 s a cycle, which takes
    // hours at a million pins): idle is measured once every pin is examined, when the budget no
    // longer matters.
    'content-budget-s': { type: 'string', default: '0' },
    dir: { type: 'string' },
  },
})
const pins = Number(values.pins)
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()

const repo = await makeRepo({ pins, dir: cacheDir, bin: kubo.path, log })
const { work, env } = managerCopy(repo, kubo.path, 'fresh', log)
function run(cmd, args) {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  return { ms: performance.now() - t0, out: r.stdout }
}
const kit = (...args) => run(process.execPath, [CLI, ...args])
const ipfs = (...args) => run(kubo.path, args)
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(f[11]) + Number(f[12])
}
const indexStatus = () => JSON.parse(kit('index', 'status', '--json').out)

const rows = []
try {
  if (Number(values['content-budget-s']) > 0) {
    // The content index filled first by a manager with the larger budget, then that manager
    // stopped: what is measured below is a manager with the defaults on a node whose pins are
    // all examined (a first cycle of minutes would stretch its schedule, by design).
    const budget = String(Number(values['content-budget-s']) * 1000)
    const fill = spawnSync(process.execPath, [CLI, 'daemon', 'start', '--offline'], {
      env: { ...env, IPFS_KIT_CONTENT_BUDGET_MS: budget },
      encoding: 'utf8',
    })
    if (fill.status !== 0 && !/goes on starting in the background/.test(fill.stderr))
      throw new Error(`daemon start: ${fill.stderr}`)
    const f0 = performance.now()
    while (!JSON.parse(kit('daemon', 'status', '--json').out).manager?.ready) await sleep(5000)
    log(
      `content index filled (${((performance.now() - f0) / 1000).toFixed(0)} s); restarting with the defaults`,
    )
    kit('daemon', 'stop')
  }
  const t0 = performance.now()
  // With a large content budget the first full cycle examines every pin, longer than `daemon
  // start` waits: the manager goes on starting, and is waited for here.
  const started = spawnSync(process.execPath, [CLI, 'daemon', 'start', '--offline'], {
    env,
    encoding: 'utf8',
  })
  if (started.status !== 0 && !/goes on starting in the background/.test(started.stderr))
    throw new Error(`daemon start: ${started.stderr}`)
  while (!JSON.parse(kit('daemon', 'status', '--json').out).manager?.ready) await sleep(5000)
  log(`daemon ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const st = JSON.parse(kit('daemon', 'status', '--json').out)
  // Let the content index and the first cycles settle before measuring.
  await sleep(5_000)

  // 1. A pin made directly on Kubo, until ipfs-kit shows it.
  const seen = []
  /** The durations of the cycles that listed without names (most do). */
  const withoutNames = []
  for (let i = 0; i < Number(values.changes); i++) {
    const file = join(work, `change-${i}`)
    writeFileSync(file, `freshness bench ${i} ${Date.now()}`)
    const cid = ipfs('add', '-Q', '--pin=false', file).out.trim()
    const start = performance.now()
    ipfs('pin', 'add', cid)
    for (;;) {
      if (JSON.parse(kit('pin', 'list', '--cid', cid, '--json').out).pins.length === 1) break
      if (performance.now() - start > 30 * 60_000) throw new Error('the pin did not show in 30 minutes')
      await sleep(250)
    }
    seen.push((performance.now() - start) / 1000)
    const pinsNow = indexStatus().collectors.pins
    log(
      `change ${i}: in the index after ${seen.at(-1).toFixed(1)} s (${pinsNow.last_detail}, ${pinsNow.last_duration_ms} ms)`,
    )
    // The cycle that showed the change listed without names, unless index.names_every_s came round.
    if (/^listed without names/.test(pinsNow.last_detail ?? '')) withoutNames.push(pinsNow.last_duration_ms)
  }
  rows.push([
    `a pin made with plain \`ipfs pin add\`: until \`ipfs-kit pin list --cid\` shows it (median of ${seen.length})`,
    `${median(seen).toFixed(1)} s (each: ${seen.map((s) => s.toFixed(1)).join(', ')} s)`,
    pins >= 1_000_000 ? '≤ 60 s' : '≤ 30 s',
    median(seen) <= (pins >= 1_000_000 ? 60 : 30),
  ])
  if (withoutNames.length === 0)
    throw new Error('no change was shown by a listing without names: run more --changes')
  const listingMs = median(withoutNames)
  // 2. Kubo's fastest complete listing, against a cycle's listing (without names) and one with names.
  const kuboList =
    ipfs('pin', 'ls', '--type=recursive', '-q').ms + ipfs('pin', 'ls', '--type=direct', '-q').ms
  const refresh = kit('index', 'refresh').ms
  const named = indexStatus().collectors.pins.last_duration_ms
  rows.push([
    `a cycle's pin listing (CIDs only; median of ${withoutNames.length}) against Kubo's fastest complete listing (\`ipfs pin ls -q\`, recursive + direct, no names)`,
    `${(listingMs / 1000).toFixed(1)} s against ${(kuboList / 1000).toFixed(1)} s: ${(listingMs / kuboList).toFixed(2)}x`,
    '≤ 1.5x',
    listingMs <= kuboList * 1.5,
  ])
  rows.push([
    'a listing with names (`index refresh`, and every index.names_every_s)',
    `${(named / 1000).toFixed(1)} s (the whole refresh ${(refresh / 1000).toFixed(1)} s)`,
    '',
    null,
  ])
  // 3. Idle: no change for a while, once the content index has examined every pin (its first
  // fill spends content.budget_ms of every cycle, by design; that is not what idle costs).
  const waitUntil = performance.now() + Number(values['content-wait']) * 1000
  let content = JSON.parse(kit('daemon', 'status', '--json').out)
  for (;;) {
    const progress = JSON.parse(kit('index', 'status', '--json').out)
    const detail = progress.collectors.content.last_detail ?? ''
    const m = /^(\d+) of (\d+) pins examined/.exec(detail)
    if (m && m[1] === m[2]) break
    if (performance.now() > waitUntil) {
      log(`the content index is still filling (${detail}); idle is measured with it running`)
      break
    }
    await sleep(10_000)
  }
  content = JSON.parse(kit('index', 'status', '--json').out).collectors.content.last_detail
  log(`content: ${content}`)
  const managerPid = st.manager.pid
  const kuboPid = st.kubo.pid
  // The manager's query worker (a child process) answers the CLI's queries; counted too.
  const workerPid = JSON.parse(kit('daemon', 'status', '--json').out).queries?.worker_pid ?? null
  const all = () => ticks(managerPid) + ticks(kuboPid) + (workerPid ? ticks(workerPid) : 0)
  const idleMs = Number(values['idle-seconds']) * 1000
  const before = { t: all(), cycles: indexStatus().cycles }
  const w0 = performance.now()
  await sleep(idleMs)
  const wall = (performance.now() - w0) / 1000
  const hz = 100
  const share = ((all() - before.t) / hz / wall) * 100
  const after = indexStatus()
  rows.push([
    `idle (no change for ${Math.round(wall)} s; content index: ${String(content).split(' (')[0]}): manager + Kubo CPU${workerPid ? ' (and the query worker)' : ''}`,
    `${share.toFixed(2)}% of one core (${after.cycles - before.cycles} cycles, the last: ${after.collectors.pins.last_detail.slice(0, 60)}...)`,
    '≤ 5%',
    share <= 5,
  ])
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env })
  rmSync(work, { recursive: true, force: true })
}
process.stdout.write(
  `| at ${pins.toLocaleString('en')} pins | measured | target |\n| --- | --- | --- |\n${rows
    .map(([a, b, c, met]) => `| ${a} | ${b} | ${c}${met === null ? '' : met ? ': met' : ': NOT met'} |`)
    .join('\n')}\n`,
)
