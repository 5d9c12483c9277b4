// The HTTP benchmark of issue #15: the manager on a copy of the N-pin repository of make-repo.mjs,
// then, in one run:
// - the Pinning Service API under 20 concurrent clients for --seconds (default 30) each:
//   `GET /pins?limit=10` (the newest pins), a name query (exact: `name=bench-name-5`) and a
//   partial name query (every name read): server time from each answer's Server-Timing header
//   (p50, p99), the client's round trip beside it;
// - /metrics, one request at a time (p50, p99);
// - the dashboard in Chromium (Debian's, through playwright-core): from navigation to the first
//   contentful paint, and to the node's pin count on screen (the first meaningful paint), median
//   of --page-runs.
// Prints a Markdown table (and JSON with --json). Usage:
//   npm run build && node bench/http.mjs --pins 1000000 [--seconds 30] [--page-runs 5]
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string', default: '20' },
    'page-runs': { type: 'string', default: '5' },
    json: { type: 'boolean' },
    dir: { type: 'string' },
  },
})
const pins = Number(values.pins)
const seconds = Number(values.seconds)
const clients = Number(values.clients)
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

function cli(args, env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`ipfs-kit ${args.join(' ')} failed: ${r.stderr}`)
  return r.stdout
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 })
/** One GET; resolves with the round trip and the server's own time (Server-Timing). */
function get(url, token) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const req = request(url, { agent, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume()
      res.on('end', () => {
        const m = /app;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''))
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`))
        else resolve({ rtt: performance.now() - t0, server: m ? Number(m[1]) : Number.NaN })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** `clients` loops asking `url` for `seconds`; the server and round-trip times of every answer. */
async function load(url, token) {
  const server = []
  const rtt = []
  const deadline = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const r = await get(url, token)
        server.push(r.server)
        rtt.push(r.rtt)
      }
    }),
  )
  return { n: server.length, server, rtt }
}

const repo = await makeRepo({ pins, dir: cacheDir, bin: kubo.path, log })
const work = mkdtempSync('/tmp/ipfs-kit-bench-http-')
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
const rows = []
const row = (what, value, target, met) => rows.push({ what, value, target, met })
try {
  const t0 = performance.now()
  cli(['daemon', 'start', '--offline', '--interval', '3600'], env)
  log(`${pins} pins: daemon ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  const status = JSON.parse(cli(['daemon', 'status', '--json'], env))
  const base = status.http.url
  const endpoint = status.http.pinning_endpoint
  const token = readFileSync(join(env.IPFS_KIT_PATH, 'run', 'http.token'), 'utf8').trim()
  // Warm-up: the first listing orders the pins by creation once.
  for (let i = 0; i < 3; i++) await get(`${endpoint}/pins?limit=10`, token)

  const cases = [
    ['`GET /pins?limit=10`', `${endpoint}/pins?limit=10`],
    ['`GET /pins?name=bench-name-5` (exact)', `${endpoint}/pins?name=bench-name-5`],
    [
      '`GET /pins?name=name-5&match=partial` (every named pin read)',
      `${endpoint}/pins?name=name-5&match=partial`,
    ],
  ]
  for (const [what, url] of cases) {
    const r = await load(url, token)
    const p50 = quantile(r.server, 0.5)
    const p99 = quantile(r.server, 0.99)
    log(`${what}: ${r.n} requests, server p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`)
    row(
      `${what}, ${clients} clients for ${seconds} s (${r.n} answers)`,
      `server p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (round trip p50 ${quantile(r.rtt, 0.5).toFixed(1)} ms, p99 ${quantile(r.rtt, 0.99).toFixed(1)} ms)`,
      '≤ 50 ms p50, ≤ 200 ms p99',
      p50 <= 50 && p99 <= 200,
    )
  }
  const metrics = []
  for (let i = 0; i < 200; i++) metrics.push((await get(`${base}/metrics`, token)).server)
  row(
    '`GET /metrics`, one at a time (200 requests)',
    `p50 ${quantile(metrics, 0.5).toFixed(2)} ms, p99 ${quantile(metrics, 0.99).toFixed(2)} ms`,
    '≤ 20 ms',
    quantile(metrics, 0.5) <= 20,
  )
  const pages = []
  for (let i = 0; i < 5; i++) pages.push((await get(`${base}/api/pins?sort=created&limit=25`, token)).server)
  row(
    '`GET /api/pins` (the dashboard’s first page of pins)',
    `p50 ${quantile(pages, 0.5).toFixed(1)} ms`,
    '',
    null,
  )

  if (existsSync('/usr/bin/chromium')) {
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    const fcp = []
    const meaningful = []
    const count = status.storage.pin_count.toLocaleString('en')
    for (let i = 0; i < Number(values['page-runs']); i++) {
      const link = cli(['dashboard', '--print-url'], env).trim()
      const context = await browser.newContext()
      const page = await context.newPage()
      const t = performance.now()
      await page.goto(link)
      for (;;) {
        const shown = await page.evaluate(`document.querySelector('#pin-count .value')?.textContent`)
        if (shown === count) break
        if (performance.now() - t > 30_000) throw new Error(`the pin count ${count} did not show (${shown})`)
        await new Promise((r) => setTimeout(r, 10))
      }
      meaningful.push(performance.now() - t)
      fcp.push(
        await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null`),
      )
      await context.close()
    }
    await browser.close()
    const m = quantile(meaningful, 0.5)
    row(
      `dashboard: login link to the pin count on screen (median of ${meaningful.length})`,
      `${m.toFixed(0)} ms (first contentful paint ${quantile(fcp, 0.5).toFixed(0)} ms)`,
      '≤ 1 s',
      m <= 1000,
    )
  } else log('no /usr/bin/chromium: the dashboard is not measured')
  const rss = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${status.manager.pid}/status`, 'utf8'))
  row(
    'manager peak memory (VmHWM) after the run',
    rss ? `${(Number(rss[1]) / 1024).toFixed(0)} MiB` : '?',
    '',
    null,
  )
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env })
  rmSync(work, { recursive: true, force: true })
  agent.destroy()
}

if (values.json) process.stdout.write(`${JSON.stringify({ pins, rows }, null, 2)}\n`)
const lines = [
  `| at ${pins.toLocaleString('en')} pins | measured | target |`,
  '| --- | --- | --- |',
  ...rows.map(
    (r) => `| ${r.what} | ${r.value} | ${r.target}${r.met === null ? '' : r.met ? ': met' : ': NOT met'} |`,
  ),
]
process.stdout.write(`${lines.join('\n')}\n`)
