// The format of cluster_pins.parquet: the IPFS Cluster pinset as the Cluster peer beside this node
// streams it (`/allocations`), one row per cluster pin in CID order, with each peer's status of it
// (`/pins`, which asks every peer, so it is bounded and dated: status_at). The file's peer ID is the
// Cluster peer's, not Kubo's. Written by the cluster collector, read by `cluster pin list` and
// `cluster status`.
import type { IndexColumn } from './writer.js'

export const CLUSTER_PINS_SCHEMA_VERSION = 1

/** One peer's status of one pin, as Cluster reported it. */
export interface ClusterPeerPinStatus {
  status: string
  peername?: string
  /** When that peer's status last changed, by that peer's clock. */
  timestamp?: string | null
  error?: string | null
}

export interface ClusterPinRow {
  cid: string
  /** '' for none. */
  name: string
  /** pin, meta-pin, clusterdag-pin or shard-pin. */
  type: string
  replication_min: number
  replication_max: number
  /** Cluster peer IDs the pin is allocated to; empty when every peer holds it (replication -1). */
  allocations: string[]
  /** Each peer's status; null when no status has been read for this pin yet. */
  peer_status: Record<string, ClusterPeerPinStatus> | null
  /** When peer_status was read from Cluster (it may be older than the file when /pins was slow). */
  status_at: Date | null
  metadata: Record<string, string>
  /** When the pin was made, by Cluster; null when Cluster has no time for it. */
  timestamp: Date | null
  expire_at: Date | null
}

export const CLUSTER_PIN_FILE_COLUMNS = [
  { name: 'cid', type: 'BYTE_ARRAY' },
  { name: 'name', type: 'BYTE_ARRAY' },
  { name: 'type', type: 'BYTE_ARRAY' },
  { name: 'replication_min', type: 'INT64' },
  { name: 'replication_max', type: 'INT64' },
  { name: 'allocations', type: 'BYTE_ARRAY' },
  { name: 'peer_status', type: 'BYTE_ARRAY' },
  { name: 'status_at', type: 'INT64' },
  { name: 'metadata', type: 'BYTE_ARRAY' },
  { name: 'timestamp', type: 'INT64' },
  { name: 'expire_at', type: 'INT64' },
] as const

export const CLUSTER_PIN_COLUMNS = CLUSTER_PIN_FILE_COLUMNS.map((c) => c.name)

/** Key-value metadata of cluster_pins.parquet. */
export const CLUSTER_META = {
  pinsetSha256: 'ipfs_kit.pinset_sha256',
  /** The Kubo peer the Cluster peer pins on (this node). */
  ipfsPeerId: 'ipfs_kit.cluster.ipfs_peer_id',
  peername: 'ipfs_kit.cluster.peername',
  clusterVersion: 'ipfs_kit.cluster.version',
  /** JSON: every Cluster peer ([{id, peername, ipfs_peer_id, free_space_bytes, error}]). */
  peers: 'ipfs_kit.cluster.peers',
  /** When the newest peer statuses were read; empty when never. */
  statusAt: 'ipfs_kit.cluster.status_at',
  /** Why the last read of the peer statuses failed, or ''. */
  statusError: 'ipfs_kit.cluster.status_error',
  /** JSON ClusterSummary: the counts `cluster status` shows, so that it reads the footer only. */
  summary: 'ipfs_kit.cluster.summary',
} as const

/** What `cluster status` counts over the pinset. */
export interface ClusterSummary {
  total: number
  /** Each pin counted once per status some peer reports for it. */
  by_status: Record<string, number>
  /** Pins every peer they are allocated to (every peer, for replication -1) reports pinned. */
  fully_pinned: number
  /** Pins whose statuses have not been read yet. */
  status_unknown: number
  /** Per Cluster peer: its pins by status. */
  by_peer: Record<string, Record<string, number>>
}

/** Counts the rows' statuses (one pass; the writer stores the result in the footer). */
export function summarizeClusterPins(rows: Iterable<ClusterPinRow>): ClusterSummary {
  const out: ClusterSummary = { total: 0, by_status: {}, fully_pinned: 0, status_unknown: 0, by_peer: {} }
  for (const r of rows) {
    out.total++
    if (r.peer_status === null) {
      out.status_unknown++
      continue
    }
    const entries = Object.entries(r.peer_status)
    for (const status of new Set(entries.map(([, s]) => s.status)))
      out.by_status[status] = (out.by_status[status] ?? 0) + 1
    for (const [peer, s] of entries) {
      const counts = out.by_peer[peer] ?? {}
      counts[s.status] = (counts[s.status] ?? 0) + 1
      out.by_peer[peer] = counts
    }
    const holders = r.allocations.length > 0 ? r.allocations : entries.map(([peer]) => peer)
    if (holders.length > 0 && holders.every((p) => r.peer_status?.[p]?.status === 'pinned'))
      out.fully_pinned++
  }
  return out
}

export interface ClusterPeerRow {
  id: string
  peername: string
  ipfs_peer_id: string | null
  /** The peer's last free-space metric (Cluster's disk informer), null when it sent none. */
  free_space_bytes: number | null
  /** Why this peer could not be reached, when it could not. */
  error: string | null
}

/**
 * Row groups of 25,000, as pins.parquet: a lookup checks and decodes one group's chunks of eleven
 * columns, and smaller groups cost a larger footer, which every query parses (`cluster status`
 * reads nothing else). Measured at 100,000 pins, lookup and status against `node -e 0`: 25,000
 * rows 1.98x and 1.35x, 10,000 rows 1.77-1.81x and 1.41-1.49x, 4,000 rows 1.81x and 1.53x.
 */
export const CLUSTER_WRITE_OPTIONS = {
  rowGroupSize: 25_000,
  firstRowGroupSize: 1_000,
  pageSize: 16_384,
} as const

const json = (v: unknown) => JSON.stringify(v)

/**
 * The columns of cluster_pins.parquet for rows in CID order. Every column has a page index: a
 * lookup finds its row by the `cid` pages, then decodes one page of each column for that row.
 */
export function clusterPinColumns(rows: readonly ClusterPinRow[]): IndexColumn[] {
  return [
    { name: 'cid', data: rows.map((r) => r.cid), type: 'STRING', codec: 'UNCOMPRESSED', pageIndex: true },
    { name: 'name', data: rows.map((r) => r.name), type: 'STRING', statistics: false, pageIndex: true },
    { name: 'type', data: rows.map((r) => r.type), type: 'STRING', statistics: false, pageIndex: true },
    {
      name: 'replication_min',
      data: rows.map((r) => BigInt(r.replication_min)),
      type: 'INT64',
      pageIndex: true,
    },
    {
      name: 'replication_max',
      data: rows.map((r) => BigInt(r.replication_max)),
      type: 'INT64',
      pageIndex: true,
    },
    {
      name: 'allocations',
      data: rows.map((r) => json(r.allocations)),
      type: 'STRING',
      statistics: false,
      pageIndex: true,
    },
    {
      name: 'peer_status',
      data: rows.map((r) => (r.peer_status === null ? null : json(r.peer_status))),
      type: 'STRING',
      nullable: true,
      statistics: false,
      pageIndex: true,
    },
    {
      name: 'status_at',
      data: rows.map((r) => r.status_at),
      type: 'TIMESTAMP',
      nullable: true,
      pageIndex: true,
    },
    {
      name: 'metadata',
      data: rows.map((r) => json(r.metadata)),
      type: 'STRING',
      statistics: false,
      pageIndex: true,
    },
    {
      name: 'timestamp',
      data: rows.map((r) => r.timestamp),
      type: 'TIMESTAMP',
      nullable: true,
      pageIndex: true,
    },
    {
      name: 'expire_at',
      data: rows.map((r) => r.expire_at),
      type: 'TIMESTAMP',
      nullable: true,
      pageIndex: true,
    },
  ]
}
