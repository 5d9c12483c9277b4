// `cluster pin list` and `cluster status`: answered from cluster_pins.parquet, checked against the
// identity of the Cluster peer beside this node; when the file cannot be used, from Cluster's
// REST API, with the reason kept for stderr. Neither source answering is an error that says both.
import { loadConfig } from '../config/config.js'
import { clusterPath, ipfsKitPath } from '../config/paths.js'
import { IndexRejectedError, IpfsKitError, PinSourceUnavailableError } from '../errors.js'
import { managerFiles } from '../manager/files.js'
import {
  allClusterPins,
  clusterPeerIdentity,
  clusterPeersOf,
  clusterPinsOf,
  clusterSummaryOf,
  openClusterPins,
} from '../store/cluster-pins.js'
import {
  CLUSTER_META,
  type ClusterPeerRow,
  type ClusterPinRow,
  summarizeClusterPins,
} from '../store/cluster-pins-format.js'
import type { OpenIndexFile } from '../store/reader.js'
import { type ClusterPin, type ClusterPinStatus, type ClusterRest, peerStatusOf } from './rest.js'

export interface ClusterPinOut {
  cid: string
  name: string | null
  type: string
  replication_min: number
  replication_max: number
  allocations: string[]
  /** Each peer's status: `{ "<peer>": { "status", "timestamp", "error"? } }`; null when not read yet. */
  peer_status: ClusterPinRow['peer_status']
  /** When peer_status was read from Cluster. */
  status_at: string | null
  metadata: Record<string, string>
  timestamp: string | null
  expire_at: string | null
}

export interface ClusterPinListing {
  source: 'index' | 'cluster-api'
  generated_at: string
  /** Why the index was not used (printed on stderr), when source is cluster-api. */
  fallback_reason?: string
  total: number | null
  pins: ClusterPinOut[]
}

export interface ClusterPinQuery {
  /** The spellings of one CID (parseUserCid). */
  cid?: string[]
  name?: string
  status?: string
  limit: number
}

const out = (r: ClusterPinRow): ClusterPinOut => ({
  cid: r.cid,
  name: r.name === '' ? null : r.name,
  type: r.type,
  replication_min: r.replication_min,
  replication_max: r.replication_max,
  allocations: r.allocations,
  peer_status: r.peer_status,
  status_at: r.status_at?.toISOString() ?? null,
  metadata: r.metadata,
  timestamp: r.timestamp?.toISOString() ?? null,
  expire_at: r.expire_at?.toISOString() ?? null,
})

function matches(r: ClusterPinRow, q: ClusterPinQuery): boolean {
  if (q.name !== undefined && !r.name.includes(q.name)) return false
  if (q.status !== undefined && !Object.values(r.peer_status ?? {}).some((s) => s.status === q.status))
    return false
  return true
}

interface Sources {
  kitPath: string
  rest: () => Promise<ClusterRest>
}

async function sources(): Promise<Sources> {
  return {
    kitPath: ipfsKitPath(),
    // The configuration (and the YAML parser, when there is a config.yaml) only for the fallback.
    rest: async () => (await import('./config.js')).clusterRestOf(await loadConfig()),
  }
}

/** The index file, opened and checked; or why it cannot be used. */
async function openIndex(kitPath: string): Promise<OpenIndexFile | { reason: string }> {
  const identity = clusterPeerIdentity(clusterPath(), managerFiles(kitPath).runDir)
  if (identity === null)
    return {
      reason: `the Cluster peer beside this node is not known (no identity.json in ${clusterPath()}, and no manager has indexed a Cluster here)`,
    }
  try {
    return await openClusterPins(kitPath, identity)
  } catch (err) {
    if (err instanceof IndexRejectedError) return { reason: err.message }
    throw err
  }
}

export async function clusterPinList(q: ClusterPinQuery): Promise<ClusterPinListing> {
  const { kitPath, rest } = await sources()
  const file = await openIndex(kitPath)
  if (!('reason' in file)) {
    try {
      const pins: ClusterPinOut[] = []
      let total = 0
      const rows = q.cid ? await clusterPinsOf(file, q.cid) : allClusterPins(file)
      for await (const r of rows) {
        if (!matches(r, q)) continue
        total++
        if (q.limit === 0 || pins.length < q.limit) pins.push(out(r))
      }
      return { source: 'index', generated_at: file.header.generatedAt.toISOString(), total, pins }
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      return fromApi(await rest(), q, err.message)
    } finally {
      await file.close()
    }
  }
  return fromApi(await rest(), q, file.reason)
}

/** The same answer from Cluster's REST API (slow at scale: `/pins` asks every peer). */
async function fromApi(rest: ClusterRest, q: ClusterPinQuery, reason: string): Promise<ClusterPinListing> {
  try {
    const pins: ClusterPin[] = []
    const status = new Map<string, ClusterPinStatus>()
    const at = new Date()
    if (q.cid) {
      // One CID: asked of it alone (the first spelling the cluster has), not the whole pinset.
      for (const cid of q.cid) {
        const pin = await rest.allocation(cid)
        if (!pin) continue
        pins.push(pin)
        status.set(pin.cid, await rest.status(pin.cid))
        break
      }
    } else {
      for await (const p of rest.allocations()) pins.push(p)
      pins.sort((a, b) => (a.cid < b.cid ? -1 : 1))
      if (pins.length > 0) for await (const s of rest.statusAll()) status.set(s.cid, s)
    }
    const rows: ClusterPinRow[] = pins.map((p) => {
      const s = status.get(p.cid)
      return {
        ...p,
        allocations: [...p.allocations].sort(),
        peer_status: s ? peerStatusOf(s) : null,
        status_at: s ? at : null,
      }
    })
    const matching = rows.filter((r) => matches(r, q))
    return {
      source: 'cluster-api',
      generated_at: at.toISOString(),
      fallback_reason: reason,
      total: matching.length,
      pins: (q.limit === 0 ? matching : matching.slice(0, q.limit)).map(out),
    }
  } catch (err) {
    if (!(err instanceof IpfsKitError)) throw err
    throw new PinSourceUnavailableError(
      `neither the cluster index nor Cluster's REST API can answer: ${reason}; and ${err.message}`,
      {
        hint: 'start the manager with cluster.enabled: true (`ipfs-kit daemon start`), or check cluster.api',
      },
    )
  }
}

export interface ClusterStatusAnswer {
  source: 'index' | 'cluster-api'
  generated_at: string
  fallback_reason?: string
  /** The Cluster peer beside this node. */
  peer_id: string
  peername: string | null
  version: string | null
  /** The Kubo the Cluster peer pins on. */
  ipfs_peer_id: string | null
  peers: Array<ClusterPeerRow & { pins_by_status: Record<string, number> }>
  pins: {
    total: number
    /** Each pin counted once per status some peer reports for it. */
    by_status: Record<string, number>
    /** Pins every allocated peer (every peer, for replication -1) reports pinned. */
    fully_pinned: number
    /** Pins whose statuses have not been read yet. */
    status_unknown: number
  }
  status_at: string | null
  status_error: string | null
}

export async function clusterStatus(): Promise<ClusterStatusAnswer> {
  const { kitPath, rest } = await sources()
  const file = await openIndex(kitPath)
  let reason: string
  if (!('reason' in file)) {
    try {
      // The footer only: the writer counted the statuses (a million pins are not read for a summary).
      const peers = clusterPeersOf(file)
      const { by_peer, ...pins } = clusterSummaryOf(file)
      const kv = file.header.kv
      return {
        source: 'index',
        generated_at: file.header.generatedAt.toISOString(),
        peer_id: file.header.peerId,
        peername: kv[CLUSTER_META.peername] || null,
        version: kv[CLUSTER_META.clusterVersion] || null,
        ipfs_peer_id: kv[CLUSTER_META.ipfsPeerId] || null,
        peers: peers.map((p) => ({ ...p, pins_by_status: by_peer[p.id] ?? {} })),
        pins,
        status_at: kv[CLUSTER_META.statusAt] || null,
        status_error: kv[CLUSTER_META.statusError] || null,
      }
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      reason = err.message
    } finally {
      await file.close()
    }
  } else reason = file.reason
  const api = await rest()
  try {
    const [id, listing] = await Promise.all([api.id(), fromApi(api, { limit: 0 }, reason)])
    const peers = await api.peerRows()
    const rows = listing.pins.map((p) => ({
      ...p,
      name: p.name ?? '',
      status_at: null,
      timestamp: null,
      expire_at: null,
    })) as ClusterPinRow[]
    const { by_peer, ...pins } = summarizeClusterPins(rows)
    return {
      source: 'cluster-api',
      generated_at: listing.generated_at,
      fallback_reason: reason,
      peer_id: id.id,
      peername: id.peername || null,
      version: id.version || null,
      ipfs_peer_id: id.ipfs_id,
      peers: peers.map((p) => ({ ...p, pins_by_status: by_peer[p.id] ?? {} })),
      pins,
      status_at: listing.generated_at,
      status_error: null,
    }
  } catch (err) {
    if (!(err instanceof IpfsKitError) || err instanceof PinSourceUnavailableError) throw err
    throw new PinSourceUnavailableError(
      `neither the cluster index nor Cluster's REST API can answer: ${reason}; and ${err.message}`,
      {
        hint: 'start the manager with cluster.enabled: true (`ipfs-kit daemon start`), or check cluster.api',
      },
    )
  }
}
