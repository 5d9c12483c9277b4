// Writes cluster_pins.parquet (the manager only; cluster-pins.ts reads it).
import {
  CLUSTER_META,
  CLUSTER_PINS_SCHEMA_VERSION,
  CLUSTER_WRITE_OPTIONS,
  type ClusterPeerRow,
  type ClusterPinRow,
  clusterPinColumns,
  summarizeClusterPins,
} from './cluster-pins-format.js'
import { clusterPinsPath } from './layout.js'
import { type IndexFileHeader, writeIndexFileAtomic } from './writer.js'

export interface ClusterPinsFacts {
  pinsetSha256: string
  ipfsPeerId: string | null
  peername: string | null
  clusterVersion: string | null
  peers: readonly ClusterPeerRow[]
  statusAt: Date | null
  statusError: string | null
}

/** Writes the rows (in CID order, one per CID) atomically; `header.peerId` is the Cluster peer's ID. */
export async function writeClusterPinsFile(
  kitPath: string,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  rows: readonly ClusterPinRow[],
  facts: ClusterPinsFacts,
): Promise<number> {
  return writeIndexFileAtomic(
    clusterPinsPath(kitPath),
    {
      ...header,
      kind: 'cluster_pins',
      schemaVersion: CLUSTER_PINS_SCHEMA_VERSION,
      extra: {
        ...header.extra,
        [CLUSTER_META.pinsetSha256]: facts.pinsetSha256,
        [CLUSTER_META.ipfsPeerId]: facts.ipfsPeerId ?? '',
        [CLUSTER_META.peername]: facts.peername ?? '',
        [CLUSTER_META.clusterVersion]: facts.clusterVersion ?? '',
        [CLUSTER_META.peers]: JSON.stringify(facts.peers),
        [CLUSTER_META.statusAt]: facts.statusAt?.toISOString() ?? '',
        [CLUSTER_META.statusError]: facts.statusError ?? '',
        [CLUSTER_META.summary]: JSON.stringify(summarizeClusterPins(rows)),
      },
    },
    { rowCount: rows.length, slice: (start, end) => clusterPinColumns(rows.slice(start, end)) },
    CLUSTER_WRITE_OPTIONS,
  )
}
