// The Cluster benchmark of issue #16: a real IPFS Cluster peer (CRDT, replication -1) in front of a
// copy of the N-pin Kubo repository of make-repo.mjs, every one of its pins pinned through
// Cluster's REST API (so the cluster pinset has N pins, each with a name), ipfs-kit beside it
// (cluster.enabled, started by ipfs-kit), then, interleaved in one run, medians of --runs:
//   node -e 0 | ipfs-kit cluster pin list --cid <middle> | ipfs-cluster-ctl pin ls <middle>
//   ipfs-kit cluster status | ipfs-cluster-ctl status <middle>
// and `ipfs-cluster-ctl status` (every pin, every peer: the question `cluster status` answers)
// fewer times, as it takes seconds. Also: the time to pin N through Cluster (the setup) and one
// cluster index cycle. Needs a Cluster build (not on the registries this project installs from):
//   IPFS_KIT_CLUSTER_BIN=.../ipfs-cluster-service IPFS_KIT_CLUSTER_CTL=.../ipfs-cluster-ctl \
//   npm run build && node bench/cluster.mjs --pins 100000 [--runs 11]
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeRepo } from './make-repo.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(root, 'bin/ipfs-kit.cjs')
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '11' },
    'status-runs': { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    dir: { type: 'string' },
  },
})
const log = (m) => process.stderr.write(`bench: ${m}\n`)
const service = process.env.IPFS_KIT_CLUSTER_BIN
const ctlBin = process.env.IPFS_KIT_CLUSTER_CTL
if (!service || !ctlBin) {
  log('skipped: set IPFS_KIT_CLUSTER_BIN and IPFS_KIT_CLUSTER_CTL to an IPFS Cluster build')
  process.exit(0)
}
const pins = Number(values.pins)
const runs = Number(values.runs)
const cacheDir =
  values.dir ??
  join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'), 'bench')
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const kubo = await resolveKuboBinary()

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const timeRun = (cmd, args, env) => {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`)
  return { ms, out: r.stdout, err: r.stderr }
}

const repo = await makeRepo({ pins, dir: cacheDir, bin: kubo.path, log })
const work = mkdtempSync('/tmp/ipfs-kit-bench-cluster-')
const ipfsPath = join(work, 'ipfs')
const clusterPath = join(work, 'cluster')
cpSync(repo, ipfsPath, { recursive: true })
const ipfs = (args) =>
  execFileSync(kubo.path, args, {
    env: { ...process.env, IPFS_PATH: ipfsPath },
    maxBuffer: 1 << 30,
  }).toString()
const kuboPort = await freePort()
ipfs(['config', 'Addresses.API', `/ip4/127.0.0.1/tcp/${kuboPort}`])
const cids = ipfs(['pin', 'ls', '-q']).trim().split('\n').sort()
log(`${cids.length} pins in the Kubo repository`)

execFileSync(service, ['init', '--consensus', 'crdt'], {
  env: { ...process.env, IPFS_CLUSTER_PATH: clusterPath },
})
const restPort = await freePort()
const restApi = `/ip4/127.0.0.1/tcp/${restPort}`
const c = JSON.parse(readFileSync(join(clusterPath, 'service.json'), 'utf8'))
Object.assign(c.cluster, {
  listen_multiaddress: [`/ip4/127.0.0.1/tcp/${await freePort()}`],
  mdns_interval: '0s',
  enable_relay_hop: false,
})
c.api.restapi.http_listen_multiaddress = restApi
c.api.ipfsproxy.listen_multiaddress = `/ip4/127.0.0.1/tcp/${await freePort()}`
c.api.ipfsproxy.node_multiaddress = `/ip4/127.0.0.1/tcp/${kuboPort}`
c.api.pinsvcapi.http_listen_multiaddress = `/ip4/127.0.0.1/tcp/${await freePort()}`
c.ipfs_connector.ipfshttp.node_multiaddress = `/ip4/127.0.0.1/tcp/${kuboPort}`
// Commit pins to the CRDT in batches: one DAG node per pin would make the setup hours long.
c.consensus.crdt.batching = { max_batch_size: 1000, max_batch_age: '1s' }
writeFileSync(join(clusterPath, 'service.json'), JSON.stringify(c, null, 2))

const env = {
  ...process.env,
  IPFS_PATH: ipfsPath,
  IPFS_KIT_PATH: join(work, 'kit'),
  IPFS_CLUSTER_PATH: clusterPath,
  IPFS_KIT_CLUSTER_ENABLED: 'true',
  IPFS_KIT_CLUSTER_API: restApi,
  IPFS_KIT_CLUSTER_BIN: service,
  IPFS_KIT_HTTP_LISTEN: 'off',
  IPFS_KIT_PROXY_LISTEN: 'off',
  IPFS_KIT_WATCH_S: '3600',
}
const ctl = (args) => [ctlBin, ['--host', restApi, ...args]]

try {
  let t0 = performance.now()
  timeRun(process.execPath, [CLI, 'daemon', 'start', '--offline', '--interval', '3600'], env)
  log(`daemon with Kubo and the Cluster peer ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  // Pin every CID through Cluster's REST API, `concurrency` requests at a time.
  const agent = new Agent({ keepAlive: true, maxSockets: Number(values.concurrency) })
  const post = (cid, i) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: restPort,
          method: 'POST',
          path: `/pins/${cid}?name=bench-cluster-${i}`,
          agent,
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`pin ${cid}: HTTP ${res.statusCode}`)),
          )
        },
      )
      req.on('error', reject)
      req.end()
    })
  t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (next < cids.length) {
        const i = next++
        await post(cids[i], i)
        if (i % 10000 === 0) log(`pinned ${i} of ${cids.length} through Cluster`)
      }
    }),
  )
  agent.destroy()
  const pinSeconds = (performance.now() - t0) / 1000
  log(`pinned ${cids.length} through Cluster in ${pinSeconds.toFixed(0)} s`)
  // Wait until Cluster lists them all (its CRDT batches commit within a second).
  for (;;) {
    const n = timeRun(...ctl(['--enc', 'json', 'pin', 'ls']), env).out.split('\n{').length
    if (n >= cids.length) break
    await new Promise((r) => setTimeout(r, 2000))
  }

  t0 = performance.now()
  const refresh = timeRun(process.execPath, [CLI, 'index', 'refresh'], env)
  const cycleMs = performance.now() - t0
  log(`index refresh: ${refresh.out.trim()}`)
  const collectors = JSON.parse(
    timeRun(process.execPath, [CLI, 'index', 'status', '--json'], env).out,
  ).collectors
  const clusterMs = collectors.cluster?.last_duration_ms
  const middle = cids[Math.floor(cids.length / 2)]
  const answer = JSON.parse(
    timeRun(process.execPath, [CLI, 'cluster', 'pin', 'list', '--cid', middle, '--json'], env).out,
  )
  if (answer.source !== 'index' || answer.pins.length !== 1)
    throw new Error(`cluster pin list --cid: ${JSON.stringify(answer)}`)
  const status = JSON.parse(timeRun(process.execPath, [CLI, 'cluster', 'status', '--json'], env).out)
  if (status.source !== 'index' || status.pins.total !== cids.length)
    throw new Error(`cluster status: ${JSON.stringify(status.pins)}`)

  // Both answers, the running manager's (warm, src/cli/warm.ts) and the CLI's own from the same
  // files (cold, IPFS_KIT_NO_WARM=1); the warm ones checked to be the manager's.
  const cold = { ...env, IPFS_KIT_NO_WARM: '1' }
  for (const args of [
    ['cluster', 'pin', 'list', '--cid', middle],
    ['cluster', 'status'],
  ]) {
    const dbg = timeRun(process.execPath, [CLI, ...args], { ...env, IPFS_KIT_DEBUG: '1' })
    if (!/answered by the running manager/.test(dbg.err ?? ''))
      throw new Error(`${args.join(' ')}: not answered by the manager: ${dbg.err}`)
  }
  // The query costs alone: background indexing paused once no cycle runs (the files stay).
  timeRun(process.execPath, [CLI, 'index', 'stop'], env)
  for (let i = 0; i < 600; i++) {
    const s = JSON.parse(timeRun(process.execPath, [CLI, 'index', 'status', '--json'], env).out)
    if (!s.cycle_running) break
    await new Promise((r) => setTimeout(r, 500))
  }
  const cases = {
    node: [process.execPath, ['-e', '0']],
    lookup: [process.execPath, [CLI, 'cluster', 'pin', 'list', '--cid', middle]],
    lookupCold: [process.execPath, [CLI, 'cluster', 'pin', 'list', '--cid', middle], cold],
    status: [process.execPath, [CLI, 'cluster', 'status']],
    statusCold: [process.execPath, [CLI, 'cluster', 'status'], cold],
    ctlLookup: ctl(['pin', 'ls', middle]),
    ctlStatusOne: ctl(['status', middle]),
  }
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < runs; r++)
    for (const [k, [cmd, args, e]] of Object.entries(cases)) times[k].push(timeRun(cmd, args, e ?? env).ms)
  const full = []
  for (let r = 0; r < Number(values['status-runs']); r++) full.push(timeRun(...ctl(['status']), env).ms)
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
  const ratio = (x) => `${(x / m.node).toFixed(2)}x`
  const verdict = (x) => (x / m.node <= 1.5 ? 'met' : 'NOT met')
  const rows = [
    ['`node -e 0`', `${m.node.toFixed(0)} ms`, '', ''],
    [
      `\`ipfs-kit cluster pin list --cid <middle>\``,
      `${m.lookup.toFixed(0)} ms, ${ratio(m.lookup)} \`node -e 0\` (cold: ${m.lookupCold.toFixed(0)} ms, ${ratio(m.lookupCold)})`,
      `\`ipfs-cluster-ctl pin ls <cid>\` ${m.ctlLookup.toFixed(0)} ms`,
      `≤ 1.5x: ${verdict(m.lookup)}`,
    ],
    [
      '`ipfs-kit cluster status`',
      `${m.status.toFixed(0)} ms, ${ratio(m.status)} \`node -e 0\` (cold: ${m.statusCold.toFixed(0)} ms, ${ratio(m.statusCold)})`,
      `\`ipfs-cluster-ctl status\` (every pin) ${median(full).toFixed(0)} ms; \`status <cid>\` ${m.ctlStatusOne.toFixed(0)} ms`,
      `≤ 1.5x: ${verdict(m.status)}`,
    ],
    [
      'the cluster collector in one cycle',
      `${(clusterMs / 1000).toFixed(1)} s`,
      `/allocations and /pins streamed, file written (the whole \`index refresh\`, every collector: ${(cycleMs / 1000).toFixed(1)} s)`,
      '',
    ],
    [
      'pinning every pin through Cluster (setup)',
      `${pinSeconds.toFixed(0)} s`,
      `${values.concurrency} REST requests at a time`,
      '',
    ],
  ]
  process.stdout.write(
    `${cids.length.toLocaleString('en')} cluster pins; medians of ${runs} interleaved runs (\`ipfs-cluster-ctl status\`: ${full.length})\n\n| measure | ipfs-kit | Cluster's own, same run | target |\n| --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
  )
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env })
  rmSync(work, { recursive: true, force: true })
}
