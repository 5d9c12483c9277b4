// Reads cluster_pins.parquet (cluster-pins-format.ts), checked like every index file against the
// identity of the Cluster peer beside this node: a lookup reads only the pages that may hold its
// CID, a scan a row group at a time, and every value is checked for sense before it is handed out.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { IndexRejectedError } from '../errors.js'
import {
  CLUSTER_META,
  CLUSTER_PIN_COLUMNS,
  type ClusterPeerPinStatus,
  type ClusterPeerRow,
  type ClusterPinRow,
  type ClusterSummary,
} from './cluster-pins-format.js'
import { clusterPinsPath, MAX_TEXT_CELL_BYTES } from './layout.js'
import {
  checkCidStatistics,
  cidParser,
  cidRanges,
  type OpenIndexFile,
  openIndexFile,
  readColumns,
} from './reader.js'

/**
 * Who the Cluster peer beside this node is: the `id` of IPFS_CLUSTER_PATH/identity.json (Cluster's
 * own record), else the ID the manager last saw answer at cluster.api (run/cluster-peer.json, for
 * a peer whose folder is elsewhere). Null when neither is known: no cluster index can be trusted.
 */
export function clusterPeerIdentity(clusterPath: string, runDir: string): string | null {
  for (const [file, key] of [
    [join(clusterPath, 'identity.json'), 'id'],
    [join(runDir, 'cluster-peer.json'), 'peer_id'],
  ] as const) {
    try {
      const v = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[key]
      if (typeof v === 'string' && v !== '') return v
    } catch {
      // not there, or not readable: the next source
    }
  }
  return null
}

export async function openClusterPins(kitPath: string, clusterPeerId: string): Promise<OpenIndexFile> {
  return openIndexFile(clusterPinsPath(kitPath), 'cluster_pins', clusterPeerId)
}

/** The Cluster peers the file lists in its metadata, checked. */
export function clusterPeersOf(file: OpenIndexFile): ClusterPeerRow[] {
  const bad = (why: string) => new IndexRejectedError(file.path, `its list of Cluster peers ${why}`)
  let v: unknown
  try {
    v = JSON.parse(file.header.kv[CLUSTER_META.peers] ?? '')
  } catch {
    throw bad('is not JSON')
  }
  if (!Array.isArray(v)) throw bad('is not a list')
  return v.map((p) => {
    const o = p as Record<string, unknown>
    if (typeof o?.id !== 'string' || o.id === '') throw bad('has a peer without an ID')
    const free = o.free_space_bytes
    if (free !== null && (typeof free !== 'number' || !Number.isSafeInteger(free) || free < 0))
      throw bad(`has a free space of ${String(free)}`)
    return {
      id: o.id,
      peername: typeof o.peername === 'string' ? o.peername : '',
      ipfs_peer_id: typeof o.ipfs_peer_id === 'string' ? o.ipfs_peer_id : null,
      free_space_bytes: free as number | null,
      error: typeof o.error === 'string' ? o.error : null,
    }
  })
}

/** The counts the writer stored in the footer, checked against the row count. */
export function clusterSummaryOf(file: OpenIndexFile): ClusterSummary {
  const bad = (why: string) => new IndexRejectedError(file.path, `its cluster summary ${why}`)
  let v: ClusterSummary
  try {
    v = JSON.parse(file.header.kv[CLUSTER_META.summary] ?? '') as ClusterSummary
  } catch {
    throw bad('is not JSON')
  }
  const count = (n: unknown) =>
    Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= file.header.rowCount
  const counts = (o: unknown) =>
    typeof o === 'object' && o !== null && !Array.isArray(o) && Object.values(o).every(count)
  if (
    typeof v !== 'object' ||
    v === null ||
    v.total !== file.header.rowCount ||
    !count(v.fully_pinned) ||
    !count(v.status_unknown) ||
    !counts(v.by_status) ||
    typeof v.by_peer !== 'object' ||
    v.by_peer === null ||
    !Object.values(v.by_peer).every(counts)
  )
    throw bad('does not add up to its rows')
  return v
}

type CidParse = (text: string) => unknown

function rowsOf(file: OpenIndexFile, columns: Record<string, unknown[]>, firstRow: number, parse: CidParse) {
  const n = (columns.cid as unknown[]).length
  const out: ClusterPinRow[] = []
  for (let i = 0; i < n; i++) {
    const bad = (why: string) => new IndexRejectedError(file.path, `row ${firstRow + i} ${why}`)
    const text = (name: string): string => {
      const v = columns[name]?.[i]
      if (typeof v !== 'string' || v.length > MAX_TEXT_CELL_BYTES) throw bad(`has a ${name} that is not text`)
      return v
    }
    const jsonCell = (name: string): unknown => {
      try {
        return JSON.parse(text(name))
      } catch (err) {
        if (err instanceof IndexRejectedError) throw err
        throw bad(`has a ${name} that is not JSON`)
      }
    }
    const cid = text('cid')
    try {
      parse(cid)
    } catch {
      throw bad(`has an invalid CID: ${JSON.stringify(cid.slice(0, 80))}`)
    }
    const replication = (name: string) => {
      const v = columns[name]?.[i]
      const x = typeof v === 'bigint' ? Number(v) : Number.NaN
      // Cluster's -1 means "every peer".
      if (!Number.isSafeInteger(x) || x < -1) throw bad(`has ${name} ${String(v)}, which Cluster never sets`)
      return x
    }
    const time = (name: string): Date | null => {
      const v = columns[name]?.[i]
      if (v === null || v === undefined) return null
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw bad(`has an invalid ${name}`)
      return v
    }
    const allocations = jsonCell('allocations')
    if (!Array.isArray(allocations) || !allocations.every((a) => typeof a === 'string'))
      throw bad('has allocations that are not a list of peer IDs')
    const metadata = jsonCell('metadata')
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
      throw bad('has metadata that is not an object')
    let peerStatus: Record<string, ClusterPeerPinStatus> | null = null
    if (columns.peer_status?.[i] !== null && columns.peer_status?.[i] !== undefined) {
      const v = jsonCell('peer_status') as Record<string, ClusterPeerPinStatus>
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw bad('has a peer_status that is not an object')
      for (const s of Object.values(v))
        if (typeof s?.status !== 'string') throw bad('has a peer_status without a status')
      peerStatus = v
    }
    out.push({
      cid,
      name: text('name'),
      type: text('type'),
      replication_min: replication('replication_min'),
      replication_max: replication('replication_max'),
      allocations: allocations as string[],
      peer_status: peerStatus,
      status_at: time('status_at'),
      metadata: metadata as Record<string, string>,
      timestamp: time('timestamp'),
      expire_at: time('expire_at'),
    })
  }
  return out
}

/**
 * The rows for these CIDs that the file has: the `cid` pages that may hold them are read first,
 * then every column of the matching rows only (each column has a page index, so one page each).
 * Only the rows handed out are parsed and checked.
 */
export async function clusterPinsOf(file: OpenIndexFile, cids: readonly string[]): Promise<ClusterPinRow[]> {
  if (cids.length === 0 || file.header.rowCount === 0) return []
  const wanted = [...new Set(cids)].sort()
  await checkCidStatistics(file, wanted)
  const set = new Set(wanted)
  const parse = await cidParser()
  const out: ClusterPinRow[] = []
  for (const range of await cidRanges(file, wanted)) {
    const found = (await readColumns(file, ['cid'], range.start, range.end)).cid as unknown[]
    for (const [i, cid] of found.entries()) {
      if (typeof cid !== 'string' || !set.has(cid)) continue
      const row = range.start + i
      const columns = await readColumns(file, CLUSTER_PIN_COLUMNS, row, row + 1)
      out.push(...rowsOf(file, columns, row, parse))
    }
  }
  return out
}

/** Every row, in CID order, a row group at a time. */
export async function* allClusterPins(file: OpenIndexFile): AsyncGenerator<ClusterPinRow> {
  const parse = await cidParser()
  await checkCidStatistics(file)
  let start = 0
  for (const group of file.metadata.row_groups) {
    const end = start + Number(group.num_rows)
    if (end > start)
      yield* rowsOf(file, await readColumns(file, CLUSTER_PIN_COLUMNS, start, end), start, parse)
    start = end
  }
}
