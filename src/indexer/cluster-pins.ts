// The cluster collector: each cycle, the IPFS Cluster pinset streamed from the Cluster peer beside
// this node (`/allocations`: its own copy of the shared state, no fan-out) into
// cluster_pins.parquet, sorted by CID, with every peer's status of every pin from `/pins`. That
// call asks every peer, so it is bounded: its longest silence is cluster.status_timeout_s, and it
// is repeated no sooner than ten times its last duration (so it takes at most a tenth of the time)
// unless the pinset changed; a pin whose status could not be read keeps the last one, dated by its
// status_at. An unchanged cluster (same pins, statuses and peers) is not rewritten.
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { type ClusterRest, peerStatusOf } from '../cluster/rest.js'
import { ClusterUnreachableError, IndexMissingError, IndexRejectedError } from '../errors.js'
import type { Logger } from '../manager/log.js'
import { writeJsonAtomic } from '../store/atomic.js'
import { allClusterPins, openClusterPins } from '../store/cluster-pins.js'
import type { ClusterPeerPinStatus, ClusterPinRow } from '../store/cluster-pins-format.js'
import { writeClusterPinsFile } from '../store/cluster-pins-writer.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'

export interface ClusterCollectorOptions {
  kitPath: string
  runDir: string
  writer: string
  /** The Cluster peer's REST client while it answers; else why not. */
  cluster: () => { rest: ClusterRest } | { unavailable: string }
  statusTimeoutMs: () => number
  log: Logger
}

interface KnownStatus {
  status: Record<string, ClusterPeerPinStatus>
  at: Date
}

/** Statuses are read again no sooner than this many times their last read took. */
const STATUS_COST_FACTOR = 10

export type ClusterCollector = Collector & {
  /** What the last run saw: for `daemon status` and metrics. */
  summary(): { pins: number | null; status_at: string | null; status_error: string | null }
}

export function clusterCollector(options: ClusterCollectorOptions): ClusterCollector {
  let statuses: Map<string, KnownStatus> | null = null
  let statusesOf: string | null = null
  let lastHash: string | null = null
  let lastPinsetHash: string | null = null
  let lastStatusRead: { at: number; ms: number } | null = null
  let lastPeerId: string | null = null
  const summary = {
    pins: null as number | null,
    status_at: null as string | null,
    status_error: null as string | null,
  }

  /** The statuses of the last file of this Cluster peer (a manager restart keeps them, dated). */
  async function loadStatuses(peerId: string): Promise<Map<string, KnownStatus>> {
    const out = new Map<string, KnownStatus>()
    let file: Awaited<ReturnType<typeof openClusterPins>> | null = null
    try {
      file = await openClusterPins(options.kitPath, peerId)
      for await (const row of allClusterPins(file))
        if (row.peer_status && row.status_at) out.set(row.cid, { status: row.peer_status, at: row.status_at })
    } catch (err) {
      if (!(err instanceof IndexMissingError))
        options.log.warn('the last cluster_pins.parquet cannot be read; peer statuses start afresh', {
          error: err instanceof IndexRejectedError ? err.reason : (err as Error).message,
        })
    } finally {
      await file?.close()
    }
    return out
  }

  async function run(ctx: CollectContext): Promise<CollectorOutcome> {
    const c = options.cluster()
    if ('unavailable' in c)
      throw new ClusterUnreachableError(`the Cluster peer is not available: ${c.unavailable}`)
    const { rest } = c
    const id = await rest.id({ signal: ctx.signal })
    if (id.id !== lastPeerId) {
      // For readers whose IPFS_CLUSTER_PATH has no identity.json (a peer attached elsewhere).
      await writeJsonAtomic(join(options.runDir, 'cluster-peer.json'), {
        peer_id: id.id,
        api: rest.address.multiaddr,
      })
      lastPeerId = id.id
    }
    if (statusesOf !== id.id || statuses === null) {
      statuses = await loadStatuses(id.id)
      statusesOf = id.id
    }
    const known = statuses

    const rows: ClusterPinRow[] = []
    for await (const p of rest.allocations({ signal: ctx.signal })) {
      rows.push({
        cid: p.cid,
        name: p.name,
        type: p.type,
        replication_min: p.replication_min,
        replication_max: p.replication_max,
        allocations: [...p.allocations].sort(),
        peer_status: null,
        status_at: null,
        metadata: p.metadata,
        timestamp: p.timestamp,
        expire_at: p.expire_at,
      })
    }
    rows.sort((a, b) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0))
    for (let i = 1; i < rows.length; i++)
      if (rows[i]?.cid === rows[i - 1]?.cid)
        throw new ClusterUnreachableError(`Cluster's /allocations listed ${rows[i]?.cid} twice`)
    const pinsetHash = hashOf(
      rows.map((r) => [
        r.cid,
        r.name,
        r.type,
        r.replication_min,
        r.replication_max,
        r.allocations,
        r.metadata,
      ]),
    )

    let statusError: string | null = null
    const due =
      ctx.asked === true ||
      pinsetHash !== lastPinsetHash ||
      lastStatusRead === null ||
      Date.now() - lastStatusRead.at >= lastStatusRead.ms * STATUS_COST_FACTOR
    if (due) {
      const t0 = Date.now()
      try {
        const at = new Date()
        for await (const s of rest.statusAll({ signal: ctx.signal, timeoutMs: options.statusTimeoutMs() })) {
          known.set(s.cid, { status: peerStatusOf(s), at })
        }
        lastStatusRead = { at: t0, ms: Date.now() - t0 }
      } catch (err) {
        if (ctx.signal.aborted) throw err
        statusError = (err as Error).message
        lastStatusRead = { at: t0, ms: Date.now() - t0 }
        options.log.warn('could not read the peer statuses of the cluster pins; keeping the last ones', {
          error: statusError,
        })
      }
    }
    const wanted = new Set(rows.map((r) => r.cid))
    for (const cid of known.keys()) if (!wanted.has(cid)) known.delete(cid)
    let newest: Date | null = null
    for (const r of rows) {
      const k = known.get(r.cid)
      if (!k) continue
      r.peer_status = k.status
      r.status_at = k.at
      if (newest === null || k.at > newest) newest = k.at
    }

    const peers = await rest.peerRows({ signal: ctx.signal })

    summary.pins = rows.length
    summary.status_at = newest?.toISOString() ?? null
    summary.status_error = statusError
    const hash = hashOf([pinsetHash, rows.map((r) => [r.peer_status, r.status_at?.getTime() ?? null]), peers])
    lastPinsetHash = pinsetHash
    if (hash === lastHash) return { wrote: false, rows: rows.length, detail: 'cluster unchanged' }
    await writeClusterPinsFile(
      options.kitPath,
      {
        writer: options.writer,
        peerId: id.id,
        kuboVersion: ctx.kuboVersion,
        generatedAt: new Date(),
      },
      rows,
      {
        pinsetSha256: pinsetHash,
        ipfsPeerId: id.ipfs_id,
        peername: id.peername || null,
        clusterVersion: id.version || null,
        peers,
        statusAt: newest,
        statusError,
      },
    )
    lastHash = hash
    return {
      wrote: true,
      rows: rows.length,
      detail: `${rows.length} cluster pins, ${peers.length} peers${statusError ? `; statuses kept from before (${statusError})` : ''}`,
    }
  }

  return { name: 'cluster', run, summary: () => ({ ...summary }) }
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex')
}
