// Topology on two real Kubo nodes on loopback: peers.parquet carries the other node with its
// latency, agent, protocols and the bandwidth Kubo counted for it (a fetch makes it flow); a
// disconnect ends the session into the peer history, a reconnect starts a second one.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { indexFilePath } from '../src/store/layout.js'
import { writeStateFile } from '../src/store/state-writer.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

interface PeerRow {
  peer_id: string
  addr: string
  direction: string | null
  latency_ms: number | null
  agent: string | null
  protocols: string[] | null
  streams: number | null
  bw_in_bytes: number | null
  bw_out_bytes: number | null
  bw_at: string | null
  connected_since: string
}
interface HistoryRow {
  peer_id: string
  agent: string | null
  first_seen: string
  last_seen: string
  sessions: number
  connected_now: boolean
  bw_in_bytes: number | null
}

let a: DaemonEnv
let b: TestKubo
let bAddr: string
const FILE_BYTES = 2_000_000

async function ipfsA(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(a.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: a.ipfsPath, timeoutMs: 120_000 })
}
async function peers(): Promise<{ generated_at: string; peers: PeerRow[] }> {
  const r = await a.cli(['state', 'peers', '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}
async function history(...args: string[]): Promise<HistoryRow[]> {
  const r = await a.cli(['state', 'peers', '--history', '--json', ...args])
  assert.equal(r.code, 0, r.stderr)
  return (JSON.parse(r.stdout) as { peers: HistoryRow[] }).peers
}
const refresh = async () => assert.equal((await a.cli(['index', 'refresh'])).code, 0)

before(async () => {
  b = await startKubo()
  a = await daemonEnv()
  const start = await a.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  bAddr = (await b.rpc.id()).addresses.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/')) as string
  await ipfsA(['swarm', 'connect', bAddr])
  const dir = await makeTempDir('peers')
  await writeFile(join(dir, 'big'), randomBytes(FILE_BYTES))
  const { runIpfs } = await import('../src/kubo/process.js')
  const cid = (
    await runIpfs(a.env.IPFS_KIT_IPFS_BIN as string, ['add', '-Q', join(dir, 'big')], {
      ipfsPath: b.ipfsPath,
    })
  ).trim()
  // A fetches the file from B: FILE_BYTES and more flow in over that connection.
  assert.equal((await ipfsA(['cat', cid])).length > 0, true)
  // Kubo's per-peer meters are updated by a ticker each second.
  await new Promise((r) => setTimeout(r, 2_500))
  await refresh()
})
after(async () => {
  await a?.cli(['daemon', 'stop'])
  await b?.stop()
})

describe('peers', () => {
  it('peers.parquet carries the other node with latency, agent, protocols and its bandwidth', async () => {
    const { peers: rows } = await peers()
    assert.equal(rows.length, 1)
    const p = rows[0] as PeerRow
    assert.equal(p.peer_id, b.peerId)
    assert.equal(p.direction, 'outbound')
    assert.ok(bAddr.startsWith(p.addr), `${p.addr} is how B was dialled (${bAddr})`)
    assert.ok(
      typeof p.latency_ms === 'number' && p.latency_ms >= 0 && p.latency_ms < 10_000,
      String(p.latency_ms),
    )
    assert.equal(p.agent, `kubo/${(await b.rpc.version()).version}`)
    assert.ok(
      p.protocols?.some((x) => x.startsWith('/ipfs/bitswap/')),
      JSON.stringify(p.protocols),
    )
    assert.ok(typeof p.streams === 'number' && p.streams >= 0)
    // Kubo's own count for the peer, asked after the cycle, bounds the indexed one from above.
    const raw = await fetchBw(b.peerId)
    assert.ok(
      typeof p.bw_in_bytes === 'number' && p.bw_in_bytes >= FILE_BYTES && p.bw_in_bytes <= raw.TotalIn,
      `${p.bw_in_bytes} in [${FILE_BYTES}, ${raw.TotalIn}]`,
    )
    assert.ok(typeof p.bw_out_bytes === 'number' && p.bw_out_bytes > 0 && p.bw_out_bytes <= raw.TotalOut)
    const generated = Date.parse((await peers()).generated_at)
    assert.ok(p.bw_at !== null && Math.abs(Date.parse(p.bw_at) - generated) < 60_000)
    assert.ok(Date.parse(p.connected_since) <= Date.parse(p.bw_at as string))
    const text = await a.cli(['state', 'peers'])
    assert.match(text.stdout, new RegExp(`${b.peerId}\\s+outbound`))
  })

  it('the network history has the DHT routing tables Kubo reports', async () => {
    const r = await a.cli(['state', 'history', 'network', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const last = (JSON.parse(r.stdout) as { rows: Array<Record<string, unknown>> }).rows.at(-1) as Record<
      string,
      unknown
    >
    const api = (await readFile(join(a.ipfsPath, 'api'), 'utf8')).trim()
    const [, , host, , port] = api.split('/')
    const text = await (await fetch(`http://${host}:${port}/api/v0/stats/dht`, { method: 'POST' })).text()
    const tables = Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { Name: string; Buckets: Array<{ Peers: unknown[] }> | null })
        .map((t) => [t.Name, (t.Buckets ?? []).reduce((n, b) => n + (b.Peers?.length ?? 0), 0)]),
    )
    for (const name of ['wan', 'lan']) {
      const ours = last[`dht_${name}_peers`]
      assert.equal(typeof ours, 'number', `dht_${name}_peers`)
      // The table may gain or lose the other node between the cycle and this call.
      assert.ok(
        Math.abs((ours as number) - (tables[name] as number)) <= 1,
        `${name}: ${ours} vs ${tables[name]}`,
      )
    }
  })

  it('a connection keeps its connected_since across cycles', async () => {
    const first = (await peers()).peers[0] as PeerRow
    await refresh()
    const again = (await peers()).peers[0] as PeerRow
    assert.equal(again.connected_since, first.connected_since)
  })

  it('a disconnect ends the session into the history; a reconnect starts a second one', async () => {
    const since = (await peers()).peers[0]?.connected_since as string
    await ipfsA(['swarm', 'disconnect', bAddr])
    await refresh()
    assert.deepEqual((await peers()).peers, [])
    const h1 = await history()
    assert.equal(h1.length, 1)
    assert.deepEqual(
      {
        peer: h1[0]?.peer_id,
        sessions: h1[0]?.sessions,
        now: h1[0]?.connected_now,
        first: h1[0]?.first_seen,
      },
      { peer: b.peerId, sessions: 1, now: false, first: since },
    )
    assert.equal(h1[0]?.agent?.startsWith('kubo/'), true)
    assert.ok((h1[0]?.bw_in_bytes ?? 0) >= FILE_BYTES)
    await ipfsA(['swarm', 'connect', bAddr])
    await refresh()
    const h2 = await history('--since', '1h')
    assert.equal(h2[0]?.sessions, 2)
    assert.equal(h2[0]?.connected_now, true)
    assert.deepEqual(await history('--until', '1h'), [])
  })

  it("another node's peers.parquet is refused with the reason, exit 1", async () => {
    const path = indexFilePath(a.kitPath, 'peers')
    const saved = await readFile(path)
    try {
      await writeStateFile(
        path,
        'peers',
        { writer: 'ipfs-kit 0.1.0', peerId: b.peerId, kuboVersion: null, generatedAt: new Date() },
        [],
        {},
      )
      const r = await a.cli(['state', 'peers', '--json'])
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, new RegExp(`state peers: peers\\.parquet .*${b.peerId}`))
    } finally {
      await writeFile(path, saved)
    }
  })

  it('bad input exits 2', async () => {
    for (const args of [
      ['state', 'peers', '--since', '1h'],
      ['state', 'peers', '--history', '--since', '-5m'],
      ['state', 'peers', '--history', '--until', 'yesterday-ish'],
      ['state', 'storage', '--history'],
      ['state', 'peers', 'extra'],
    ]) {
      const r = await a.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /ipfs-kit: /)
    }
  })
})

/** Kubo's own per-peer figure, over HTTP with fetch (independent of the client under test). */
async function fetchBw(peer: string): Promise<{ TotalIn: number; TotalOut: number }> {
  const api = (await readFile(join(a.ipfsPath, 'api'), 'utf8')).trim()
  const [, , host, , port] = api.split('/')
  const res = await fetch(`http://${host}:${port}/api/v0/stats/bw?peer=${peer}`, { method: 'POST' })
  assert.equal(res.status, 200)
  return (await res.json()) as { TotalIn: number; TotalOut: number }
}
