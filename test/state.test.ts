// Program state end to end with two real Kubo nodes connected to each other: daemon status and
// the state files agree with what Kubo itself says, and every column of every state file is
// checked against its real source (or is null with a reason).
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { STATE_COLUMNS } from '../src/store/layout.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

let a: DaemonEnv
let b: TestKubo
let aPeer: string

async function ipfsA(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(a.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: a.ipfsPath })
}
/** Kubo's own answer over HTTP, with fetch: independent of the client under test. */
async function raw<T>(command: string): Promise<T> {
  const api = (await readFile(join(a.ipfsPath, 'api'), 'utf8')).trim()
  const [, , host, , port] = api.split('/')
  const res = await fetch(`http://${host}:${port}/api/v0/${command}`, { method: 'POST' })
  assert.equal(res.status, 200, command)
  return (await res.json()) as T
}

before(async () => {
  b = await startKubo()
  a = await daemonEnv()
  const start = await a.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  aPeer = (await ipfsA(['id', '-f', '<id>'])).trim()
  const bAddr = (await b.rpc.id()).addresses.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/')) as string
  await ipfsA(['swarm', 'connect', bAddr])
  const dir = await makeTempDir('f')
  for (const i of [1, 2, 3]) {
    await writeFile(join(dir, `f${i}`), `file ${i} `.repeat(2000 * i))
    await ipfsA(['add', '-Q', join(dir, `f${i}`)])
  }
  const direct = (await ipfsA(['add', '-Q', '--pin=false', join(dir, 'f1')])).trim()
  await ipfsA(['files', 'cp', `/ipfs/${direct}`, '/copied'])
  const fresh = (await ipfsA(['add', '-Q', '--pin=false', '--raw-leaves', join(dir, 'f2')])).trim()
  assert.equal((await a.cli(['pin', 'add', fresh, '--direct'])).code, 0)
  assert.equal((await a.cli(['pin', 'add', direct, '--name', 'twice'])).code, 0)
  assert.equal((await a.cli(['pin', 'rm', direct])).code, 0)
  // Two cycles, so that CPU use has the two samples it needs.
  assert.equal((await a.cli(['index', 'refresh'])).code, 0)
  assert.equal((await a.cli(['index', 'refresh'])).code, 0)
})
after(async () => {
  await a?.cli(['daemon', 'stop'])
  await b?.stop()
})

describe('program state', () => {
  it('daemon status --json agrees with ipfs id, version, swarm peers, pin ls and repo stat', async () => {
    const st = (await a.status()) as unknown as {
      source: string
      kubo: { peer_id: string; version: string }
      network: { peers: number }
      storage: { repo_size_bytes: number; pin_count: number }
      index: { running: boolean; interval_s: number; last_updated: string }
    }
    assert.equal(st.source, 'index')
    assert.equal(st.kubo.peer_id, aPeer)
    assert.equal(st.kubo.version, (await ipfsA(['version', '--number'])).trim())
    const peers = (await ipfsA(['swarm', 'peers'])).trim().split('\n').filter(Boolean)
    assert.equal(peers.length, 1)
    assert.equal(st.network.peers, peers.length)
    const recursive = (await ipfsA(['pin', 'ls', '--type=recursive', '-q']))
      .trim()
      .split('\n')
      .filter(Boolean)
    const direct = (await ipfsA(['pin', 'ls', '--type=direct', '-q'])).trim().split('\n').filter(Boolean)
    assert.equal(st.storage.pin_count, recursive.length + direct.length)
    const size = (await raw<{ RepoSize: number }>('repo/stat?size-only=true')).RepoSize
    assert.ok(
      Math.abs(st.storage.repo_size_bytes - size) <= size * 0.1,
      `${st.storage.repo_size_bytes} vs ${size}`,
    )
    assert.equal(st.index.running, true)
    assert.equal(st.index.interval_s, 3600)
    assert.ok(Date.parse(st.index.last_updated) > Date.now() - 60_000)
  })

  it('state network lists the other node', async () => {
    const r = await a.cli(['state', 'network', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const net = JSON.parse(r.stdout) as {
      online: boolean
      peer_count: number
      peers: Array<{ peer_id: string }>
    }
    assert.equal(net.online, true)
    assert.equal(net.peer_count, 1)
    assert.deepEqual(
      net.peers.map((p) => p.peer_id),
      [b.peerId],
    )
    const text = await a.cli(['state', 'network'])
    assert.match(text.stdout, new RegExp(b.peerId))
  })

  it('every column of every state file comes from its real source, or is null with a reason', async () => {
    const r = await a.cli(['state', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const all = JSON.parse(r.stdout) as Record<
      string,
      {
        values?: Record<string, unknown>
        peers?: Record<string, unknown>[]
        null_reasons: Record<string, string>
      }
    >
    const status = (await a.status()) as unknown as { manager: { pid: number }; kubo: { pid: number } }
    const versionAll = await ipfsA(['version', '--all'])
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(versionAll)?.[1]?.trim()
    const bw = await raw<{ TotalIn: number; TotalOut: number }>('stats/bw')
    const repoFull = await raw<{ RepoSize: number; StorageMax: number; NumObjects: number }>('repo/stat')
    const filesStat = await raw<{ Hash: string; CumulativeSize: number; Blocks: number }>('files/stat?arg=/')
    const bitswap = await raw<Record<string, number>>('bitswap/stat')
    const swarm = await raw<{ Peers: Array<{ Peer: string; Addr: string }> }>(
      'swarm/peers?direction=true&latency=true',
    )
    const recursive = (await ipfsA(['pin', 'ls', '--type=recursive', '-q']))
      .trim()
      .split('\n')
      .filter(Boolean)
    const direct = (await ipfsA(['pin', 'ls', '--type=direct', '-q'])).trim().split('\n').filter(Boolean)
    const rss =
      Number(/^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${status.kubo.pid}/status`, 'utf8'))?.[1]) *
      1024
    const recent = (v: unknown) =>
      typeof v === 'string' && Date.now() - Date.parse(v) < 120_000 && Date.parse(v) <= Date.now()
    const between = (v: unknown, lo: number, hi: number) => typeof v === 'number' && v >= lo && v <= hi

    // One check per column: against the real source, or null with a reason.
    const checks: Record<string, Record<string, (v: unknown, reasons: Record<string, string>) => boolean>> = {
      system: {
        collected_at: recent,
        kubo_version: (v) => v === field('Kubo version'),
        kubo_commit: (v, why) =>
          v === null ? /empty commit/.test(why.kubo_commit ?? '') : v === field('Commit'),
        go_version: (v) => v === field('Golang version'),
        repo_version: (v) => v === field('Repo version'),
        kubo_system: (v) => v === field('System version'),
        kubo_pid: (v) => v === status.kubo.pid,
        kubo_cpu_percent: (v) => between(v, 0, 100 * 64),
        kubo_rss_bytes: (v) => between(v, rss * 0.5, rss * 1.5),
        manager_pid: (v) => v === status.manager.pid,
        manager_uptime_s: (v) => between(v, 0, 600),
        host_load_1m: (v) => between(v, 0, (loadavg()[0] ?? 0) + 4),
        host_load_5m: (v) => between(v, 0, (loadavg()[1] ?? 0) + 4),
        host_load_15m: (v) => between(v, 0, (loadavg()[2] ?? 0) + 4),
        host_mem_total_bytes: (v) => v === totalmem(),
        host_mem_available_bytes: (v) => between(v, 1, totalmem()),
        bw_total_in_bytes: (v) => between(v, 0, bw.TotalIn),
        bw_total_out_bytes: (v) => between(v, 0, bw.TotalOut),
        bw_rate_in_bps: (v) => between(v, 0, Number.MAX_SAFE_INTEGER),
        bw_rate_out_bps: (v) => between(v, 0, Number.MAX_SAFE_INTEGER),
      },
      network: {
        peer_id: (v) => swarm.Peers.some((p) => p.Peer === v),
        address: (v) => swarm.Peers.some((p) => p.Addr === v),
        latency_ms: (v, why) => (v === null ? Boolean(why.latency_ms) : between(v, 0, 60_000)),
        direction: (v) => v === 'inbound' || v === 'outbound',
        muxer: (v, why) => (v === null ? Boolean(why.muxer) : typeof v === 'string' && v.startsWith('/')),
      },
      storage: {
        collected_at: recent,
        repo_path: (v) => v === a.ipfsPath,
        repo_size_bytes: (v) => between(v, repoFull.RepoSize * 0.9, repoFull.RepoSize * 1.1),
        storage_max_bytes: (v) => v === repoFull.StorageMax,
        num_objects: (v) => between(v, 1, repoFull.NumObjects),
        num_objects_at: recent,
        pins_recursive: (v) => v === recursive.length,
        pins_direct: (v) => v === direct.length,
      },
      files: {
        collected_at: recent,
        mfs_root_cid: (v) => v === filesStat.Hash,
        mfs_cumulative_size_bytes: (v) => v === filesStat.CumulativeSize,
        mfs_blocks: (v) => v === filesStat.Blocks,
        bitswap_blocks_received: (v) => between(v, 0, bitswap.BlocksReceived ?? 0),
        bitswap_data_received_bytes: (v) => between(v, 0, bitswap.DataReceived ?? 0),
        bitswap_dup_blocks_received: (v) => between(v, 0, bitswap.DupBlksReceived ?? 0),
        bitswap_dup_data_received_bytes: (v) => between(v, 0, bitswap.DupDataReceived ?? 0),
        bitswap_blocks_sent: (v) => between(v, 0, bitswap.BlocksSent ?? 0),
        bitswap_data_sent_bytes: (v) => between(v, 0, bitswap.DataSent ?? 0),
        pin_adds_via_ipfs_kit: (v) => v === 2,
        pin_removes_via_ipfs_kit: (v) => v === 1,
      },
    }
    // peers.parquet is shown by `state peers`, checked in the next test.
    for (const [area, columns] of Object.entries(STATE_COLUMNS).filter(([k]) => k !== 'peers')) {
      const checked = checks[area] ?? {}
      assert.deepEqual(
        Object.keys(checked).sort(),
        columns.map((c) => c.name).sort(),
        `every ${area} column has a check`,
      )
      const snapshot = all[area]
      assert.ok(snapshot, area)
      const rows = area === 'network' ? (snapshot.peers ?? []) : [snapshot.values ?? {}]
      assert.ok(rows.length > 0, `${area} has rows`)
      for (const row of rows) {
        for (const [column, ok] of Object.entries(checked)) {
          const v = row[column]
          assert.ok(
            ok(v, snapshot.null_reasons) ||
              (v === null && snapshot.null_reasons[column] && area !== 'network'),
            `${area}.${column} = ${JSON.stringify(v)} (reason: ${snapshot.null_reasons[column] ?? 'none'})`,
          )
          if (v === null)
            assert.ok(snapshot.null_reasons[column], `${area}.${column} is null without a reason`)
        }
      }
    }
  })

  it('every column of peers.parquet comes from Kubo (swarm peers with identify, stats/bw of the peer), or is null with a reason', async () => {
    const r = await a.cli(['state', 'peers', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const shown = JSON.parse(r.stdout) as {
      peers: Record<string, unknown>[]
      null_reasons: Record<string, string>
    }
    const swarm = await raw<{
      Peers: Array<{
        Peer: string
        Addr: string
        Direction: number
        Identify?: { AgentVersion?: string; Protocols?: string[] }
      }>
    }>('swarm/peers?direction=true&latency=true&identify=true')
    const bw = await raw<{ TotalIn: number; TotalOut: number }>(`stats/bw?peer=${b.peerId}`)
    const of = (v: unknown) => swarm.Peers.find((p) => p.Peer === v)
    const recent = (v: unknown) => typeof v === 'string' && Date.now() - Date.parse(v) < 300_000
    const atMost = (max: number) => (v: unknown) => typeof v === 'number' && v >= 0 && v <= max
    const checks: Record<string, (v: unknown, row: Record<string, unknown>) => boolean> = {
      collected_at: recent,
      peer_id: (v) => of(v) !== undefined,
      addr: (v, row) => of(row.peer_id)?.Addr === v,
      direction: (v, row) => v === (of(row.peer_id)?.Direction === 1 ? 'inbound' : 'outbound'),
      latency_ms: atMost(60_000),
      agent: (v, row) => v === of(row.peer_id)?.Identify?.AgentVersion,
      protocols: (v, row) =>
        Array.isArray(v) && v.length > 0 && v.every((p) => of(row.peer_id)?.Identify?.Protocols?.includes(p)),
      streams: atMost(10_000),
      bw_in_bytes: atMost(bw.TotalIn),
      bw_out_bytes: atMost(bw.TotalOut),
      rate_in_bps: atMost(Number.MAX_SAFE_INTEGER),
      rate_out_bps: atMost(Number.MAX_SAFE_INTEGER),
      bw_at: recent,
      connected_since: recent,
    }
    assert.deepEqual(
      Object.keys(checks).sort(),
      STATE_COLUMNS.peers.map((c) => c.name).sort(),
      'every peers column has a check',
    )
    assert.deepEqual(
      shown.peers.map((p) => p.peer_id),
      [b.peerId],
    )
    for (const row of shown.peers)
      for (const [column, ok] of Object.entries(checks)) {
        const v = row[column]
        assert.ok(
          ok(v, row) || (v === null && shown.null_reasons[column]),
          `peers.${column} = ${JSON.stringify(v)} (reason: ${shown.null_reasons[column] ?? 'none'})`,
        )
      }
  })

  it('config show gives each value with its origin, masks secrets, and names a bad key and line', async () => {
    await writeFile(
      join(a.kitPath, 'config.yaml'),
      'index:\n  interval_s: 45\nkubo:\n  auth: bearer:very-secret\n',
    )
    const r = await a.cli(['config', 'show', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const shown = JSON.parse(r.stdout) as {
      settings: Record<string, { value: unknown; origin: string; source?: string }>
      paths: Record<string, unknown>
      kubo_binary: { path: string; version: string }
    }
    assert.deepEqual(shown.settings['index.interval_s'], {
      ...shown.settings['index.interval_s'],
      value: 45,
      origin: 'file',
      source: `${join(a.kitPath, 'config.yaml')}:2`,
    })
    assert.equal(shown.settings['kubo.auth']?.value, 'bearer:***')
    assert.equal(shown.settings['kubo.binary']?.origin, 'env')
    assert.equal(shown.settings['kubo.timeout_ms']?.origin, 'default')
    assert.equal(shown.paths.ipfs_path, a.ipfsPath)
    assert.equal(shown.kubo_binary.path, a.env.IPFS_KIT_IPFS_BIN)
    assert.doesNotMatch(r.stdout, /very-secret/)
    const text = await a.cli(['config', 'show'])
    assert.match(text.stdout, /index\.interval_s +45 +\[file: .*config\.yaml:2\]/)
    assert.doesNotMatch(text.stdout, /very-secret/)

    const kubo = await a.cli(['config', 'show', '--json', '--kubo'])
    assert.equal(kubo.code, 0, kubo.stderr)
    const kc = JSON.parse(kubo.stdout) as { kubo_config: { Identity: { PeerID: string } } }
    assert.equal(kc.kubo_config.Identity.PeerID, aPeer)

    await writeFile(join(a.kitPath, 'config.yaml'), 'index:\n  interval_s: 45\n  colour: blue\n')
    const bad = await a.cli(['config', 'show'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /config\.yaml:3: unknown key 'index\.colour'/)
    await writeFile(join(a.kitPath, 'config.yaml'), '')
  })
})

describe('state without a daemon, and offline', () => {
  it('state says what is missing and exits 1', async () => {
    const d = await daemonEnv()
    const r = await d.cli(['state', 'storage'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /state storage: no Kubo repository/)
    const bad = await d.cli(['state', 'weather'])
    assert.equal(bad.code, 2)
  })

  it('an offline node writes null peers with "offline" as the reason', async () => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start', '--offline'])).code, 0)
    try {
      const r = await d.cli(['state', 'network', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const net = JSON.parse(r.stdout) as {
        online: boolean
        peer_count: number | null
        null_reasons: Record<string, string>
      }
      assert.equal(net.online, false)
      assert.equal(net.peer_count, null)
      assert.equal(net.null_reasons.peer_count, 'offline')
      const st = (await d.status()) as unknown as { network: { peers: number | null } }
      assert.equal(st.network.peers, null)
    } finally {
      await d.cli(['daemon', 'stop'])
    }
  })
})
