// What the Kubo RPC proxy costs (issue #18): the same ipfs commands against Kubo's own API and
// through the proxy, interleaved, in one run on a fresh node:
// - `ipfs add` of a 100 MB file (pinned: through the proxy the pin is also recorded in the index
//   before the command returns), median of --runs;
// - a small call (`ipfs id`), median of --small-runs, as the ipfs CLI's whole run and as one raw
//   HTTP call (POST /api/v0/id with keep-alive), to separate the proxy from starting the CLI;
// - the time from `ipfs --api <proxy> pin add` returning to `ipfs-kit pin list --cid` showing it.
// Usage: npm run build && node bench/proxy.mjs [--runs 5] [--small-runs 200] [--mb 100]
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'small-runs': { type: 'string', default: '200' },
    mb: { type: 'string', default: '100' },
  },
})
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const log = (m) => process.stderr.write(`bench: ${m}\n`)

const work = mkdtempSync('/tmp/ipfs-kit-bench-proxy-')
const env = {
  ...process.env,
  IPFS_PATH: join(work, 'ipfs'),
  IPFS_KIT_PATH: join(work, 'kit'),
  IPFS_KIT_IPFS_BIN: kubo.path,
  IPFS_KIT_KUBO_INIT_PROFILES: 'test',
  IPFS_KIT_HTTP_LISTEN: '127.0.0.1:0',
  IPFS_KIT_PROXY_LISTEN: '127.0.0.1:0',
}
function run(cmd, args) {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  return { ms: performance.now() - t0, out: r.stdout.trim() }
}
const agent = new Agent({ keepAlive: true })
function rawCall(api, path) {
  const [, , host, , port] = api.split('/')
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const req = request({ host, port: Number(port), method: 'POST', path, agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(performance.now() - t0))
    })
    req.on('error', reject)
    req.end()
  })
}

const rows = []
try {
  run(process.execPath, [CLI, 'daemon', 'start', '--interval', '3600'])
  const st = JSON.parse(run(process.execPath, [CLI, 'daemon', 'status', '--json']).out)
  const direct = st.kubo.api_address
  const proxy = st.proxy.api
  log(`Kubo ${direct}, proxy ${proxy}`)
  const file = join(work, 'big')
  const mb = Number(values.mb)
  const adds = { direct: [], proxy: [] }
  // Where the time goes: the CPU time of Kubo and of the manager (which runs the proxy) during
  // each add, from /proc (utime + stime, in clock ticks of 10 ms).
  const cpuMs = (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 }
  }
  const zero = () => ({ kubo: 0, manager: 0, managerSys: 0 })
  const cpu = { direct: zero(), proxy: zero() }
  for (let i = 0; i < Number(values.runs); i++) {
    for (const [name, api] of [
      ['direct', direct],
      ['proxy', proxy],
    ]) {
      writeFileSync(file, randomBytes(mb * 1024 * 1024))
      const before = [cpuMs(st.kubo.pid), cpuMs(st.manager.pid)]
      adds[name].push(run(kubo.path, ['--api', api, 'add', '-Q', file]).ms)
      const [k, m] = [cpuMs(st.kubo.pid), cpuMs(st.manager.pid)]
      cpu[name].kubo += k.user + k.sys - before[0].user - before[0].sys
      cpu[name].manager += m.user + m.sys - before[1].user - before[1].sys
      cpu[name].managerSys += m.sys - before[1].sys
    }
  }
  const [ad, ap] = [median(adds.direct), median(adds.proxy)]
  rows.push([
    `\`ipfs add\` of ${mb} MB (pinned), median of ${adds.direct.length}`,
    `${ad.toFixed(0)} ms direct, ${ap.toFixed(0)} ms through the proxy: +${(((ap - ad) / ad) * 100).toFixed(1)}%`,
    '≤ +5%',
    ap <= ad * 1.05,
  ])
  const per = (ms) => (ms / adds.direct.length).toFixed(0)
  rows.push([
    `CPU time per add (mean of ${adds.direct.length}): Kubo, and the manager that runs the proxy`,
    `direct: Kubo ${per(cpu.direct.kubo)} ms, manager ${per(cpu.direct.manager)} ms; through the proxy: Kubo ${per(cpu.proxy.kubo)} ms, manager ${per(cpu.proxy.manager)} ms (${per(cpu.proxy.managerSys)} ms of it in the kernel)`,
    '',
    null,
  ])
  const small = { direct: [], proxy: [] }
  const raw = { direct: [], proxy: [] }
  const n = Number(values['small-runs'])
  for (let i = 0; i < Math.min(n, 40); i++) {
    small.direct.push(run(kubo.path, ['--api', direct, 'id']).ms)
    small.proxy.push(run(kubo.path, ['--api', proxy, 'id']).ms)
  }
  for (let i = 0; i < n; i++) {
    raw.direct.push(await rawCall(direct, '/api/v0/id'))
    raw.proxy.push(await rawCall(proxy, '/api/v0/id'))
  }
  const [sd, sp] = [median(small.direct), median(small.proxy)]
  const [rd, rp] = [median(raw.direct), median(raw.proxy)]
  rows.push([
    `a small call, \`ipfs id\` (the whole CLI run, median of ${small.direct.length})`,
    `${sd.toFixed(1)} ms direct, ${sp.toFixed(1)} ms through the proxy: +${(sp - sd).toFixed(2)} ms`,
    '≤ +2 ms',
    sp - sd <= 2,
  ])
  rows.push([
    `the same call as one HTTP request, \`POST /api/v0/id\` (keep-alive, median of ${n})`,
    `${rd.toFixed(2)} ms direct, ${rp.toFixed(2)} ms through the proxy: +${(rp - rd).toFixed(2)} ms`,
    '≤ +2 ms',
    rp - rd <= 2,
  ])
  // Freshness: the pin is in the index when the ipfs command returns.
  writeFileSync(join(work, 'small'), `fresh ${Date.now()}`)
  const cid = run(kubo.path, ['--api', direct, 'add', '-Q', '--pin=false', join(work, 'small')]).out
  const pin = run(kubo.path, ['--api', proxy, 'pin', 'add', cid])
  const t0 = performance.now()
  const listed = JSON.parse(run(process.execPath, [CLI, 'pin', 'list', '--cid', cid, '--json']).out)
  const seen = performance.now() - t0
  rows.push([
    '`ipfs --api <proxy> pin add`: in `ipfs-kit pin list --cid` when the command returns',
    `${listed.pins.length === 1 ? 'yes' : 'NO'} (pin add ${pin.ms.toFixed(0)} ms; the pin list after it ${seen.toFixed(0)} ms, no refresh)`,
    '≤ 1 s',
    listed.pins.length === 1,
  ])
  const bytes = readFileSync(file).length
  log(`last file ${bytes} bytes`)
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env })
  rmSync(work, { recursive: true, force: true })
  agent.destroy()
}
process.stdout.write(
  `| measure | result | target |\n| --- | --- | --- |\n${rows.map(([a, b, c, met]) => `| ${a} | ${b} | ${met === null ? '' : `${c}: ${met ? 'met' : 'NOT met'}`} |`).join('\n')}\n`,
)
