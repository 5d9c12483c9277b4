// ipfs-kit beside a real IPFS Cluster: three peers on loopback (CRDT, replication 2), each with its
// own real Kubo. ipfs-kit runs beside peer 0: it attaches to that peer's Kubo, starts the Cluster
// peer itself (cluster.enabled), indexes the cluster pinset, answers `cluster pin list` and
// `cluster status` from the index as `ipfs-cluster-ctl` would from the cluster, restarts the peer
// when it dies, and falls back to (or clearly fails without) Cluster's REST API. Skipped, saying
// why, unless IPFS_KIT_CLUSTER_BIN and IPFS_KIT_CLUSTER_CTL name a Cluster build.
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { clusterPinsPath } from '../src/store/layout.js'
import {
  CLUSTER_SKIP_REASON,
  type ClusterPeer,
  clusterBins,
  makeCluster,
  startPeer,
  stopPeer,
} from './helpers/cluster.js'
import { type DaemonEnv, daemonEnv, isAlive, waitFor } from './helpers/daemon.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

const bins = clusterBins()

interface CtlPin {
  cid: string
  name: string
  allocations: string[] | null
  replication_factor_min: number
  replication_factor_max: number
}

interface ListedPin {
  cid: string
  name: string | null
  replication_min: number
  replication_max: number
  allocations: string[]
  peer_status: Record<string, { status: string; error?: string }> | null
}

/** ipfs-cluster-ctl --enc json prints one JSON document after another. */
function jsonDocuments<T>(text: string): T[] {
  const out: T[] = []
  let depth = 0
  let start = -1
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
      continue
    }
    if (ch === '"') inString = true
    else if (ch === '{') {
      if (depth === 0) start = i
      depth++
    } else if (ch === '}') {
      depth--
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as T)
    }
  }
  return out
}

describe(bins
  ? 'ipfs-kit beside a three-peer IPFS Cluster'
  : `ipfs-kit beside IPFS Cluster: ${CLUSTER_SKIP_REASON}`, {
  skip: bins ? false : CLUSTER_SKIP_REASON,
}, () => {
  const kubos: TestKubo[] = []
  let peers: ClusterPeer[] = []
  let d: DaemonEnv
  const pinsOf = async (args: string[] = []) => {
    const r = await d.cli(['cluster', 'pin', 'list', '--limit', '0', '--json', ...args])
    assert.equal(r.code, 0, r.stderr)
    return { ...(JSON.parse(r.stdout) as { source: string; pins: ListedPin[] }), stderr: r.stderr }
  }
  const ctlPins = async () =>
    jsonDocuments<CtlPin>(await (peers[0] as ClusterPeer).ctl(['--enc', 'json', 'pin', 'ls'])).sort((a, b) =>
      a.cid < b.cid ? -1 : 1,
    )

  before(async () => {
    if (!bins) return
    for (let i = 0; i < 3; i++) kubos.push(await startKubo())
    peers = await makeCluster(bins, kubos, 2)
    const [p0, p1, p2] = peers as [ClusterPeer, ClusterPeer, ClusterPeer]
    startPeer(bins, p1)
    startPeer(bins, p2)
    d = await daemonEnv({
      ipfsPath: (kubos[0] as TestKubo).ipfsPath,
      extra: {
        IPFS_KIT_CLUSTER_ENABLED: 'true',
        IPFS_KIT_CLUSTER_API: p0.restApi,
        IPFS_CLUSTER_PATH: p0.path,
        IPFS_KIT_CLUSTER_BIN: bins.service,
        IPFS_KIT_WATCH_S: '3600',
      },
    })
    const start = await d.cli(['daemon', 'start', '--interval', '3600'])
    assert.equal(start.code, 0, start.stderr)
    await waitFor(
      'three Cluster peers to see each other',
      async () => jsonDocuments<{ id: string }>(await p0.ctl(['--enc', 'json', 'peers', 'ls'])).length === 3,
      60_000,
    )
    // The same 30 files on every Kubo, then pinned through Cluster with names: each pin is
    // allocated to two of the three peers, which have its blocks already.
    const dir = await makeTempDir('cluster-files')
    const files: string[] = []
    for (let i = 0; i < 30; i++) {
      files.push(join(dir, `f${i}`))
      await writeFile(join(dir, `f${i}`), `cluster file ${i} ${Date.now()}`)
    }
    let cids: string[] = []
    for (const k of kubos) cids = (await k.ipfs(['add', '-q', '--pin=false', ...files])).trim().split('\n')
    assert.equal(cids.length, 30)
    // Allocation needs every peer's free-space metric, which comes over pubsub a while after start.
    await waitFor(
      "the first pin to be allocated (the peers' metrics arrive)",
      async () => p0.ctl(['pin', 'add', '--name', 'cluster-pin-0', cids[0] as string]),
      60_000,
    )
    for (const [i, cid] of cids.entries())
      if (i > 0) await p0.ctl(['pin', 'add', '--name', `cluster-pin-${i}`, cid])
    await waitFor(
      'every pin pinned on its two peers',
      async () => {
        const st = jsonDocuments<{ peer_map: Record<string, { status: string }> }>(
          await p0.ctl(['--enc', 'json', 'status']),
        )
        return (
          st.length === 30 &&
          st.every((s) => Object.values(s.peer_map).filter((p) => p.status === 'pinned').length === 2)
        )
      },
      120_000,
    )
  })

  after(async () => {
    await d?.cli(['daemon', 'stop'])
    for (const p of peers) await stopPeer(p)
    for (const k of kubos) await k.stop()
  })

  it('daemon start started the Cluster peer after Kubo; daemon status and doctor show it', async () => {
    const st = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout)
    const p0 = peers[0] as ClusterPeer
    assert.equal(st.kubo.mode, 'attached')
    assert.equal(st.cluster.mode, 'started')
    assert.equal(st.cluster.healthy, true)
    assert.equal(st.cluster.peer_id, p0.id)
    assert.equal(st.cluster.ipfs_peer_id, (kubos[0] as TestKubo).peerId)
    assert.ok(isAlive(st.cluster.pid))
    const doctor = JSON.parse((await d.cli(['doctor', '--json'])).stdout)
    assert.equal(doctor.cluster.enabled, true)
    assert.equal(doctor.cluster.answers, true)
    assert.equal(doctor.cluster.binary, bins?.service)
  })

  it('cluster pin list shows exactly the pins, names and allocations ipfs-cluster-ctl pin ls prints', async () => {
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const ctl = await ctlPins()
    const ours = await pinsOf()
    assert.equal(ours.source, 'index')
    assert.equal(ours.pins.length, 30)
    assert.deepEqual(
      ours.pins.map((p) => [p.cid, p.name, p.allocations, p.replication_min, p.replication_max]),
      ctl.map((p) => [
        p.cid,
        p.name,
        [...(p.allocations ?? [])].sort(),
        p.replication_factor_min,
        p.replication_factor_max,
      ]),
    )
    for (const p of ours.pins) {
      assert.equal(p.allocations.length, 2)
      for (const a of p.allocations) assert.equal(p.peer_status?.[a]?.status, 'pinned', JSON.stringify(p))
    }
    // A name no other contains (cluster-pin-1 is inside cluster-pin-12).
    const one = ours.pins.find((p) => /-\d\d$/.test(p.name ?? '')) as ListedPin
    assert.deepEqual((await pinsOf(['--cid', one.cid])).pins, [one])
    assert.deepEqual(
      (await pinsOf(['--name', one.name as string])).pins.map((p) => p.cid),
      [one.cid],
    )
    assert.equal((await pinsOf(['--status', 'pinned'])).pins.length, 30)
    assert.equal((await pinsOf(['--status', 'pin_error'])).pins.length, 0)
    // The same file in SQL, checked against the Cluster peer's identity like any reader does.
    const sql = await d.cli([
      'sql',
      '--json',
      'select count(*) as n, count(distinct name) as names from cluster_pins',
    ])
    assert.equal(sql.code, 0, sql.stderr)
    assert.deepEqual(JSON.parse(sql.stdout).rows, [{ n: '30', names: '30' }])
    const limited = JSON.parse((await d.cli(['cluster', 'pin', 'list', '--limit', '5', '--json'])).stdout)
    assert.equal(limited.pins.length, 5)
    assert.equal(limited.total, 30)
  })

  it('a pin added through Cluster shows after one cycle', async () => {
    const p0 = peers[0] as ClusterPeer
    const cid = (await (kubos[0] as TestKubo).ipfs(['add', '-Q', '--pin=false', '/etc/hostname'])).trim()
    await p0.ctl(['pin', 'add', '--name', 'late-pin', '--replication', '1', cid])
    assert.deepEqual((await pinsOf(['--cid', cid])).pins, [])
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const [row] = (await pinsOf(['--cid', cid])).pins
    assert.equal(row?.name, 'late-pin')
    assert.equal(row?.replication_max, 1)
    assert.deepEqual(
      (await pinsOf()).pins.map((p) => p.cid),
      (await ctlPins()).map((p) => p.cid),
    )
  })

  it('cluster status: every peer with its Kubo and free space, and pins by status', async () => {
    const r = await d.cli(['cluster', 'status', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const s = JSON.parse(r.stdout)
    assert.equal(s.source, 'index')
    assert.equal(s.peer_id, (peers[0] as ClusterPeer).id)
    assert.deepEqual(s.peers.map((p: { id: string }) => p.id).sort(), peers.map((p) => p.id).sort())
    for (const p of s.peers) {
      const peer = peers.find((x) => x.id === p.id) as ClusterPeer
      assert.equal(p.ipfs_peer_id, peer.kubo.peerId)
      assert.ok(p.free_space_bytes === null || p.free_space_bytes > 0)
      assert.equal(p.error, null)
    }
    assert.equal(s.pins.total, 31)
    assert.ok(s.pins.by_status.pinned >= 30, JSON.stringify(s.pins))
    const text = await d.cli(['cluster', 'status'])
    assert.match(text.stdout, /peers \(3\):/)
  })

  it('a peer stopped shows in cluster status', async () => {
    const p2 = peers[2] as ClusterPeer
    await stopPeer(p2)
    await waitFor(
      'the stopped peer to show in cluster status',
      async () => {
        await d.cli(['index', 'refresh'])
        const s = JSON.parse((await d.cli(['cluster', 'status', '--json'])).stdout)
        const gone = s.peers.find((p: { id: string }) => p.id === p2.id)
        return gone?.error && gone.pins_by_status.cluster_error > 0
      },
      60_000,
    )
    const s = JSON.parse((await d.cli(['cluster', 'status', '--json'])).stdout)
    const gone = s.peers.find((p: { id: string }) => p.id === p2.id)
    assert.match(gone.error, /dial/)
    assert.ok(gone.pins_by_status.cluster_error > 0, JSON.stringify(gone))
    for (const p of s.peers.filter((x: { id: string }) => x.id !== p2.id)) assert.equal(p.error, null)
    const text = await d.cli(['cluster', 'status'])
    assert.match(text.stdout, new RegExp(`${p2.id}.*! failed to dial`))
  })

  it('a damaged index falls back to Cluster with the reason on stderr', async () => {
    const file = clusterPinsPath(d.kitPath)
    const saved = await readFile(file)
    await writeFile(file, saved.subarray(0, saved.length - 100))
    const fallback = await pinsOf()
    assert.equal(fallback.source, 'cluster-api')
    assert.match(fallback.stderr, /answered from Cluster's REST API: .*rejected/)
    assert.deepEqual(
      fallback.pins.map((p) => [p.cid, p.name]),
      (await ctlPins()).map((p) => [p.cid, p.name]),
    )
    assert.equal(fallback.pins.length, 31)
    // One CID from the API asks for that CID alone; one the cluster does not have is none.
    const one = fallback.pins[3] as ListedPin
    const looked = await pinsOf(['--cid', one.cid])
    assert.equal(looked.source, 'cluster-api')
    assert.deepEqual(
      looked.pins.map((p) => [p.cid, p.name, p.allocations]),
      [[one.cid, one.name, one.allocations]],
    )
    const absent = (await (kubos[0] as TestKubo).ipfs(['add', '-Q', '--only-hash', '/etc/passwd'])).trim()
    assert.deepEqual((await pinsOf(['--cid', absent])).pins, [])
  })

  it('restarts a Cluster peer it started that is killed with SIGKILL', async () => {
    const before = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout).cluster
    process.kill(before.pid, 'SIGKILL')
    const after = await waitFor(
      'the Cluster peer restarted',
      async () => {
        const c = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout).cluster
        return c.healthy && c.pid !== before.pid && c.restarts === before.restarts + 1 ? c : false
      },
      60_000,
    )
    assert.equal(after.peer_id, before.peer_id)
    // Cluster's own state after a SIGKILL is its business: its CRDT store may come back empty until
    // the other peers broadcast again (seen here), which is why the index is read before this test.
  })

  it('daemon stop stops the Cluster peer it started; with Cluster down too, a clear error', async () => {
    const file = clusterPinsPath(d.kitPath)
    // daemon stop stops the Cluster peer ipfs-kit started (and not the attached Kubo).
    const st = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout)
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    assert.equal(isAlive(st.cluster.pid), false)
    assert.ok(await (kubos[0] as TestKubo).rpc.id(), 'the attached Kubo still runs')
    const down = await d.cli(['cluster', 'pin', 'list'])
    assert.equal(down.code, 1)
    assert.match(
      down.stderr,
      /neither the cluster index nor Cluster's REST API can answer: .*rejected.*not reachable/,
    )
    await rm(file)
    const missing = await d.cli(['cluster', 'status'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /does not exist.*not reachable/)
  })
})
