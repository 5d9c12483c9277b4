// The index files of DESIGN.md: where each lives under IPFS_KIT_PATH, the key-value metadata
// every file carries, and the schema versions a reader knows. Shared by the writer and reader.
import { join } from 'node:path'
import { CLUSTER_PIN_FILE_COLUMNS, CLUSTER_PINS_SCHEMA_VERSION } from './cluster-pins-format.js'
import {
  CONTENT_FILE_COLUMNS,
  CONTENT_READ_VERSIONS,
  CONTENT_SCHEMA_VERSION,
  completeType,
} from './content-format.js'
import { PIN_REQUEST_FILE_COLUMNS, PIN_REQUESTS_SCHEMA_VERSION } from './pin-requests-format.js'
import {
  firstSeenExactType,
  PIN_FILE_COLUMNS,
  PINS_READ_VERSIONS,
  PINS_SCHEMA_VERSION,
  PINS_SUBSET_READ_VERSIONS,
  PINS_SUBSET_SCHEMA_VERSION,
} from './pins-format.js'

export type IndexFileKind = 'pins' | 'system' | 'network' | 'storage' | 'files' | 'peers'
/**
 * Files that hold a subset of the rows of pins.parquet (same columns, same order, same
 * `pinset_sha256`), for the queries that would otherwise read every row: the named pins for
 * `pin list --name`, the direct pins for `--type direct`, the pins first seen in the last week
 * for `pin list --since` and `storage report`'s last day (PINS_META.recentFrom).
 */
export type PinSubsetKind = 'pins_named' | 'pins_direct' | 'pins_recent'
export const PIN_SUBSETS: readonly PinSubsetKind[] = ['pins_named', 'pins_direct', 'pins_recent']
/** Every kind of Parquet file ipfs-kit writes: the index files plus the pins delta and the pin subsets. */
export type FileKind =
  | IndexFileKind
  | 'pins_delta'
  | PinSubsetKind
  | 'content'
  | 'pin_requests'
  | 'cluster_pins'
  | DayLogKind

/**
 * Files kept per day, appended to each cycle: the history of each state kind, and the pin events.
 * Each lives under its folder as `day=YYYY-MM-DD/part-NNNN.parquet` (the Hive layout DuckDB,
 * Spark and pyarrow read as a partitioned table), in time order, pruned after
 * `history.retention_days`.
 */
export const DAY_LOG_KINDS = [
  'history_system',
  'history_network',
  'history_storage',
  'history_files',
  'pin_events',
  'peer_sessions',
] as const
export type DayLogKind = (typeof DAY_LOG_KINDS)[number]

export const DAY_LOG_DIRS: Record<DayLogKind, string> = {
  history_system: 'program_state/history/system',
  history_network: 'program_state/history/network',
  history_storage: 'program_state/history/storage',
  history_files: 'program_state/history/files',
  pin_events: 'pin_metadata/pin_events',
  peer_sessions: 'program_state/history/peer_sessions',
}

/** The column each row of a day log is timed by (rows are in its order, all within the file's day). */
export const DAY_LOG_TIME_COLUMN: Record<DayLogKind, string> = {
  history_system: 'collected_at',
  history_network: 'collected_at',
  history_storage: 'collected_at',
  history_files: 'collected_at',
  pin_events: 'at',
  peer_sessions: 'ended_at',
}

/** Key-value metadata of a day-log part: its day (as its folder names it), its first and last time. */
export const DAY_LOG_META = {
  day: 'ipfs_kit.day',
  firstAt: 'ipfs_kit.first_at',
  lastAt: 'ipfs_kit.last_at',
} as const

/** The UTC day of a time, as day folders are named: `2026-12-02`. */
export function dayOf(time: Date | number): string {
  return new Date(time).toISOString().slice(0, 10)
}

export function dayLogDir(kitPath: string, kind: DayLogKind): string {
  return join(kitPath, DAY_LOG_DIRS[kind])
}

export function dayLogPartPath(kitPath: string, kind: DayLogKind, day: string, part: number): string {
  return join(dayLogDir(kitPath, kind), `day=${day}`, `part-${String(part).padStart(4, '0')}.parquet`)
}

export const INDEX_FILES: Record<IndexFileKind, string> = {
  pins: 'pin_metadata/parquet_storage/pins.parquet',
  system: 'program_state/parquet/system_state.parquet',
  network: 'program_state/parquet/network_state.parquet',
  storage: 'program_state/parquet/storage_state.parquet',
  files: 'program_state/parquet/files_state.parquet',
  peers: 'program_state/parquet/peers.parquet',
}

export function indexFilePath(kitPath: string, kind: IndexFileKind): string {
  return join(kitPath, INDEX_FILES[kind])
}

/**
 * When the manager last confirmed that pins.parquet still matches the node (it does not rewrite
 * an unchanged pinset): `{ peer_id, pinset_sha256, checked_at }`, written atomically each cycle.
 */
export function pinsCheckedPath(kitPath: string): string {
  return join(kitPath, 'pin_metadata', 'pins_checked.json')
}

/**
 * The pin changes made through ipfs-kit since pins.parquet was written (`pin add`, `pin rm`),
 * each confirmed with Kubo by the manager and numbered; readers apply the entries numbered above
 * the `delta_seq` of the pins.parquet they opened. Written atomically like every index file.
 */
export function pinsDeltaPath(kitPath: string): string {
  return join(kitPath, 'pin_metadata', 'parquet_storage', 'pins_delta.parquet')
}

/**
 * A subset of pins.parquet, written with it and carrying the same `pinset_sha256`: `pin list
 * --name` reads the named pins, `--type direct` the direct pins, `--since` the recent pins,
 * instead of a column of a million rows (or a lookup of each recent pin). A reader uses one only
 * when its pinset is that of the pins.parquet it opened; otherwise (missing, damaged, or one
 * cycle apart) it reads pins.parquet.
 */
export function pinSubsetPath(kitPath: string, kind: PinSubsetKind): string {
  return join(kitPath, 'pin_metadata', 'parquet_storage', `${kind}.parquet`)
}

/** What each pinned CID is (content-format.ts): written by the content collector. */
export function contentPath(kitPath: string): string {
  return join(kitPath, 'pin_metadata', 'parquet_storage', 'content.parquet')
}

/** The requests made through the Pinning Service API (pin-requests-format.ts): written by the manager's pinning service. */
export function pinRequestsPath(kitPath: string): string {
  return join(kitPath, 'pin_metadata', 'parquet_storage', 'pin_requests.parquet')
}

/**
 * The IPFS Cluster pinset (cluster-pins-format.ts), written by the cluster collector when
 * cluster.enabled; its peer ID is the Cluster peer's.
 */
export function clusterPinsPath(kitPath: string): string {
  return join(kitPath, 'pin_metadata', 'parquet_storage', 'cluster_pins.parquet')
}

/** Key-value metadata of pins.parquet beyond the common ones. */
export const PINS_META = {
  pinsetSha256: 'ipfs_kit.pinset_sha256',
  countRecursive: 'ipfs_kit.count_recursive',
  countDirect: 'ipfs_kit.count_direct',
  /** The highest delta entry number whose change the pinset of this file already holds. */
  deltaSeq: 'ipfs_kit.delta_seq',
  /**
   * When the pins with first_seen_exact false were first indexed (the baseline; ISO time). Every
   * later pin has an `added` event at its first_seen, so `pin list --since` a later time reads
   * the events and looks those CIDs up instead of reading every row.
   */
  baselineAt: 'ipfs_kit.baseline_at',
  /**
   * JSON (RecentPinsMeta): the pins of this file first seen (exactly) in the day before it was
   * written, [cid, first_seen ms], so that `storage report` counts the last day's pins from the
   * footer instead of looking each up; `pins: null` (and their count) past RECENT_PINS_KEPT.
   */
  recentPins: 'ipfs_kit.recent_pins',
  /**
   * In pins_recent.parquet: the start of its window (ISO). It holds every pin of its pinset first
   * seen exactly (not at the baseline) at or after this time, so it answers `--since` any later time.
   */
  recentFrom: 'ipfs_kit.recent_from',
} as const

/** The window of pins_recent.parquet: the pins first seen in the week before it was written. */
export const RECENT_SUBSET_WINDOW_MS = 7 * 86_400_000
/**
 * pins_recent.parquet is written while it holds at most this many rows or SUBSET_MAX_SHARE of the
 * pins, whichever is more (about 0.7 MB; its rows would otherwise be looked up one by one).
 */
export const RECENT_SUBSET_MIN_ROWS = 10_000

/** The most pins PINS_META.recentPins lists (and content.parquet's recent sizes): about 75 KB of footer. */
export const RECENT_PINS_KEPT = 1000
/** The window of PINS_META.recentPins: a day. */
export const RECENT_PINS_WINDOW_MS = 86_400_000

export interface RecentPinsMeta {
  /** The start of the window (ISO): every pin of the file first seen exactly since then is listed. */
  from: string
  /** [cid, first_seen in ms], oldest first; null when there were more than RECENT_PINS_KEPT. */
  pins: Array<[string, number]> | null
  count: number
}

/** Key-value metadata names in every index file. */
export const META = {
  kind: 'ipfs_kit.kind',
  schemaVersion: 'ipfs_kit.schema_version',
  writer: 'ipfs_kit.writer',
  peerId: 'ipfs_kit.peer_id',
  kuboVersion: 'ipfs_kit.kubo_version',
  generatedAt: 'ipfs_kit.generated_at',
  rowCount: 'ipfs_kit.row_count',
} as const

/** The schema version of each file kind this build writes and reads; a file of any other version is rejected. */
// Version 2 added the checksums of integrity.ts; pins version 3 the delta_seq that ties it to
// pins_delta.parquet, version 4 the page index of its cid column (and an uncompressed cid
// column). A file of an older version is rewritten by the manager on its first cycle.
export const SCHEMA_VERSIONS = {
  pins: PINS_SCHEMA_VERSION,
  pins_delta: 1,
  pins_named: PINS_SUBSET_SCHEMA_VERSION,
  pins_direct: PINS_SUBSET_SCHEMA_VERSION,
  pins_recent: PINS_SUBSET_SCHEMA_VERSION,
  content: CONTENT_SCHEMA_VERSION,
  pin_requests: PIN_REQUESTS_SCHEMA_VERSION,
  cluster_pins: CLUSTER_PINS_SCHEMA_VERSION,
  system: 2,
  network: 2,
  storage: 2,
  files: 2,
  peers: 1,
  history_system: 1,
  history_network: 1,
  history_storage: 1,
  history_files: 1,
  pin_events: 1,
  peer_sessions: 1,
} as const satisfies Record<FileKind, number>

/**
 * The versions a reader accepts: the one this build writes (an older file is rewritten, never
 * read), and for the pins files and content.parquet the version before it, which differs only in
 * a column's physical type (pins-format.ts, content-format.ts).
 */
export const KNOWN_SCHEMA_VERSIONS: Record<FileKind, readonly number[]> = {
  ...(Object.fromEntries(
    Object.entries(SCHEMA_VERSIONS).map(([kind, v]) => [kind, [v]]),
  ) as unknown as Record<FileKind, readonly number[]>),
  pins: PINS_READ_VERSIONS,
  content: CONTENT_READ_VERSIONS,
  pins_named: PINS_SUBSET_READ_VERSIONS,
  pins_direct: PINS_SUBSET_READ_VERSIONS,
  pins_recent: PINS_SUBSET_READ_VERSIONS,
}

export type StateColumnType = 'STRING' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP'

/**
 * The columns of each program-state file (schema version 1), in order. Every value comes from
 * Kubo, the operating system or the manager; one that could not be read is null, and the
 * reason is in the file's metadata under NULL_REASONS_KEY.
 */
export const STATE_COLUMNS: Record<
  Exclude<IndexFileKind, 'pins'>,
  ReadonlyArray<{ name: string; type: StateColumnType }>
> = {
  system: [
    { name: 'collected_at', type: 'TIMESTAMP' },
    { name: 'kubo_version', type: 'STRING' },
    { name: 'kubo_commit', type: 'STRING' },
    { name: 'go_version', type: 'STRING' },
    { name: 'repo_version', type: 'STRING' },
    { name: 'kubo_system', type: 'STRING' },
    { name: 'kubo_pid', type: 'INT64' },
    { name: 'kubo_cpu_percent', type: 'DOUBLE' },
    { name: 'kubo_rss_bytes', type: 'INT64' },
    { name: 'manager_pid', type: 'INT64' },
    { name: 'manager_uptime_s', type: 'DOUBLE' },
    { name: 'host_load_1m', type: 'DOUBLE' },
    { name: 'host_load_5m', type: 'DOUBLE' },
    { name: 'host_load_15m', type: 'DOUBLE' },
    { name: 'host_mem_total_bytes', type: 'INT64' },
    { name: 'host_mem_available_bytes', type: 'INT64' },
    { name: 'bw_total_in_bytes', type: 'INT64' },
    { name: 'bw_total_out_bytes', type: 'INT64' },
    { name: 'bw_rate_in_bps', type: 'DOUBLE' },
    { name: 'bw_rate_out_bps', type: 'DOUBLE' },
  ],
  // One row per connected peer; the node-wide figures are in the metadata (online, peer_count).
  network: [
    { name: 'peer_id', type: 'STRING' },
    { name: 'address', type: 'STRING' },
    { name: 'latency_ms', type: 'DOUBLE' },
    { name: 'direction', type: 'STRING' },
    { name: 'muxer', type: 'STRING' },
  ],
  storage: [
    { name: 'collected_at', type: 'TIMESTAMP' },
    { name: 'repo_path', type: 'STRING' },
    { name: 'repo_size_bytes', type: 'INT64' },
    { name: 'storage_max_bytes', type: 'INT64' },
    { name: 'num_objects', type: 'INT64' },
    { name: 'num_objects_at', type: 'TIMESTAMP' },
    { name: 'pins_recursive', type: 'INT64' },
    { name: 'pins_direct', type: 'INT64' },
  ],
  files: [
    { name: 'collected_at', type: 'TIMESTAMP' },
    { name: 'mfs_root_cid', type: 'STRING' },
    { name: 'mfs_cumulative_size_bytes', type: 'INT64' },
    { name: 'mfs_blocks', type: 'INT64' },
    { name: 'bitswap_blocks_received', type: 'INT64' },
    { name: 'bitswap_data_received_bytes', type: 'INT64' },
    { name: 'bitswap_dup_blocks_received', type: 'INT64' },
    { name: 'bitswap_dup_data_received_bytes', type: 'INT64' },
    { name: 'bitswap_blocks_sent', type: 'INT64' },
    { name: 'bitswap_data_sent_bytes', type: 'INT64' },
    { name: 'pin_adds_via_ipfs_kit', type: 'INT64' },
    { name: 'pin_removes_via_ipfs_kit', type: 'INT64' },
  ],
  // One row per connected peer, with what Kubo knows of it. Kubo's per-peer bandwidth costs a
  // call per peer, so only some peers are asked each cycle: bw_at says when each figure was
  // taken. connected_since: the first cycle that saw this connection (peer, address, direction).
  peers: [
    { name: 'collected_at', type: 'TIMESTAMP' },
    { name: 'peer_id', type: 'STRING' },
    { name: 'addr', type: 'STRING' },
    { name: 'direction', type: 'STRING' },
    { name: 'latency_ms', type: 'DOUBLE' },
    { name: 'agent', type: 'STRING' },
    /** The protocols the peer announced, separated by spaces (a protocol ID has none). */
    { name: 'protocols', type: 'STRING' },
    { name: 'streams', type: 'INT64' },
    { name: 'bw_in_bytes', type: 'INT64' },
    { name: 'bw_out_bytes', type: 'INT64' },
    { name: 'rate_in_bps', type: 'DOUBLE' },
    { name: 'rate_out_bps', type: 'DOUBLE' },
    { name: 'bw_at', type: 'TIMESTAMP' },
    { name: 'connected_since', type: 'TIMESTAMP' },
  ],
}

/**
 * The columns of the day logs. A history row of system, storage and files is the state row of
 * its cycle; of the network, a summary of the peers (network_state.parquet holds one row per
 * peer). A pin event is one pin appearing or going, with when and who made it: `source` is
 * `ipfs-kit` for a change made through ipfs-kit (timed when Kubo confirmed it), `cycle` for one
 * an index cycle found (timed by that cycle: made within one interval before it).
 */
export const DAY_LOG_COLUMNS: Record<DayLogKind, ReadonlyArray<{ name: string; type: StateColumnType }>> = {
  history_system: STATE_COLUMNS.system,
  history_network: [
    { name: 'collected_at', type: 'TIMESTAMP' },
    { name: 'online', type: 'BOOLEAN' },
    { name: 'peer_count', type: 'INT64' },
    { name: 'peers_inbound', type: 'INT64' },
    { name: 'peers_outbound', type: 'INT64' },
    { name: 'latency_median_ms', type: 'DOUBLE' },
    // The peers in the routing table of the public (wan) and the local (lan) DHT, from stats/dht.
    { name: 'dht_wan_peers', type: 'INT64' },
    { name: 'dht_lan_peers', type: 'INT64' },
  ],
  history_storage: STATE_COLUMNS.storage,
  history_files: STATE_COLUMNS.files,
  // A connection that ended: when the cycle that no longer saw it ran, and what was last known of it.
  peer_sessions: [
    { name: 'ended_at', type: 'TIMESTAMP' },
    { name: 'peer_id', type: 'STRING' },
    { name: 'addr', type: 'STRING' },
    { name: 'direction', type: 'STRING' },
    { name: 'agent', type: 'STRING' },
    { name: 'connected_since', type: 'TIMESTAMP' },
    { name: 'last_seen', type: 'TIMESTAMP' },
    { name: 'bw_in_bytes', type: 'INT64' },
    { name: 'bw_out_bytes', type: 'INT64' },
    { name: 'bw_at', type: 'TIMESTAMP' },
  ],
  pin_events: [
    { name: 'at', type: 'TIMESTAMP' },
    { name: 'cid', type: 'STRING' },
    { name: 'event', type: 'STRING' },
    { name: 'type', type: 'STRING' },
    { name: 'name', type: 'STRING' },
    { name: 'source', type: 'STRING' },
  ],
}

/** Metadata key of a JSON object { column: reason } for every null value in a state file. */
export const NULL_REASONS_KEY = 'ipfs_kit.null_reasons'
/** Network metadata: whether the node is online, and how many peers it has. */
export const NETWORK_META = { online: 'ipfs_kit.online', peerCount: 'ipfs_kit.peer_count' } as const

const PHYSICAL: Record<StateColumnType, string> = {
  STRING: 'BYTE_ARRAY',
  INT64: 'INT64',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'INT64',
}

/** The columns (name and physical type) a file of this kind and schema version must have. */
export function requiredColumns(
  kind: FileKind,
  schemaVersion: number,
): ReadonlyArray<{ name: string; type: string }> {
  const columns = REQUIRED_COLUMNS[kind]
  if (kind === 'content') {
    const complete = completeType(schemaVersion)
    return columns.map((c) => (c.name === 'complete' ? { name: c.name, type: complete } : c))
  }
  if (kind !== 'pins' && !(PIN_SUBSETS as readonly string[]).includes(kind)) return columns
  const exact = firstSeenExactType(schemaVersion, kind !== 'pins')
  return columns.map((c) => (c.name === 'first_seen_exact' ? { name: c.name, type: exact } : c))
}

/** The columns (name and physical type) a file of this kind, of the version this build writes, must have. */
export const REQUIRED_COLUMNS: Record<FileKind, ReadonlyArray<{ name: string; type: string }>> = {
  pins: PIN_FILE_COLUMNS,
  pins_named: PIN_FILE_COLUMNS,
  pins_direct: PIN_FILE_COLUMNS,
  pins_recent: PIN_FILE_COLUMNS,
  content: CONTENT_FILE_COLUMNS,
  pin_requests: PIN_REQUEST_FILE_COLUMNS,
  cluster_pins: CLUSTER_PIN_FILE_COLUMNS,
  pins_delta: [
    { name: 'seq', type: 'INT64' },
    { name: 'op', type: 'BYTE_ARRAY' },
    { name: 'cid', type: 'BYTE_ARRAY' },
    { name: 'type', type: 'BYTE_ARRAY' },
    { name: 'name', type: 'BYTE_ARRAY' },
    { name: 'recorded_at', type: 'INT64' },
  ],
  system: STATE_COLUMNS.system.map((c) => ({ name: c.name, type: PHYSICAL[c.type] })),
  network: STATE_COLUMNS.network.map((c) => ({ name: c.name, type: PHYSICAL[c.type] })),
  storage: STATE_COLUMNS.storage.map((c) => ({ name: c.name, type: PHYSICAL[c.type] })),
  files: STATE_COLUMNS.files.map((c) => ({ name: c.name, type: PHYSICAL[c.type] })),
  peers: STATE_COLUMNS.peers.map((c) => ({ name: c.name, type: PHYSICAL[c.type] })),
  ...(Object.fromEntries(
    DAY_LOG_KINDS.map((k) => [k, DAY_LOG_COLUMNS[k].map((c) => ({ name: c.name, type: PHYSICAL[c.type] }))]),
  ) as unknown as Record<DayLogKind, ReadonlyArray<{ name: string; type: string }>>),
}

/**
 * The longest text value any index file may hold, in bytes. Kubo caps pin names at 255 bytes and
 * CIDs are far shorter; a longer value is a forged file, refused before it is decoded.
 */
export const MAX_TEXT_CELL_BYTES = 4096

/** The columns that hold CIDs, which a reader checks before it prints any of them. */
export const CID_COLUMNS: Record<FileKind, readonly string[]> = {
  pins: ['cid'],
  pins_delta: ['cid'],
  pins_named: ['cid'],
  pins_direct: ['cid'],
  pins_recent: ['cid'],
  content: ['cid'],
  pin_requests: ['cid'],
  cluster_pins: ['cid'],
  system: [],
  network: [],
  storage: [],
  files: ['mfs_root_cid'],
  history_system: [],
  history_network: [],
  history_storage: [],
  history_files: ['mfs_root_cid'],
  pin_events: ['cid'],
  peers: [],
  peer_sessions: [],
}
