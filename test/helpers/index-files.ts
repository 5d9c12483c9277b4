// Pins files written the way the manager writes them (same writer, checksums and all), with
// whatever a test needs to be wrong in them: another peer, fake CIDs, a foreign writer, a
// lying row count. The reader must then refuse them for what they claim, not for how they were
// made.

import type { ContentRow } from '../../src/store/content-format.js'
import { META, PINS_META, type PinSubsetKind } from '../../src/store/layout.js'
import {
  firstSeenExactType,
  PINS_PAGE_SIZE,
  PINS_ROW_GROUP_SIZE,
  PINS_SCHEMA_VERSION,
  PINS_SUBSET_SCHEMA_VERSION,
  PINS_WRITE_OPTIONS,
  pinsColumns,
} from '../../src/store/pins-format.js'
import { columnsSource, type IndexColumn, writeIndexFileAtomic } from '../../src/store/writer.js'

export interface FakePinsOptions {
  /** pins.parquet (the default) or a subset file (pins_named.parquet, ...), which has the same columns. */
  kind?: 'pins' | PinSubsetKind
  peerId: string
  cids: string[]
  types?: string[]
  names?: Array<string | null>
  /** When each pin was first seen (default: the file's time, not exact). */
  firstSeen?: Date[]
  firstSeenExact?: boolean[]
  schemaVersion?: number
  writer?: string
  rowCountClaim?: number
  generatedAt?: Date
  extra?: Record<string, string>
  /** Smaller than the manager's, to get several row groups and pages from a few rows. */
  rowGroupSize?: number
  pageSize?: number
  /** Encode in a worker thread, or in this one (default: as the manager would, by size). */
  worker?: boolean
  /** Changes a column as written (a wrong type, a value no writer of ipfs-kit writes). */
  mapColumn?: (column: IndexColumn) => IndexColumn
}

export async function writePinsFile(path: string, o: FakePinsOptions): Promise<number> {
  const now = o.generatedAt ?? new Date()
  const subset = o.kind !== undefined && o.kind !== 'pins'
  const schemaVersion = o.schemaVersion ?? (subset ? PINS_SUBSET_SCHEMA_VERSION : PINS_SCHEMA_VERSION)
  const columns = pinsColumns(
    o.cids,
    o.types ?? o.cids.map(() => 'recursive'),
    o.names ?? o.cids.map(() => null),
    o.firstSeen ?? o.cids.map(() => now),
    o.firstSeenExact ?? o.cids.map(() => false),
  )
  // An older version's first_seen_exact, as the build before wrote it.
  if (firstSeenExactType(schemaVersion, subset) === 'BOOLEAN') {
    const at = columns.findIndex((c) => c.name === 'first_seen_exact')
    const old = columns[at] as (typeof columns)[number]
    columns[at] = { ...old, type: 'BOOLEAN', data: Array.from(old.data, (v) => v === 1) }
  }
  const written = o.mapColumn ? columns.map(o.mapColumn) : columns
  return writeIndexFileAtomic(
    path,
    {
      kind: o.kind ?? 'pins',
      schemaVersion,
      writer: o.writer ?? 'ipfs-kit 0.1.0',
      peerId: o.peerId,
      kuboVersion: '0.43.1',
      generatedAt: now,
      // A claimed row count other than the real one overrides the written one (later keys win).
      extra: {
        [PINS_META.deltaSeq]: '0',
        ...o.extra,
        ...(o.rowCountClaim !== undefined ? { [META.rowCount]: String(o.rowCountClaim) } : {}),
      },
    },
    columnsSource(written, o.cids.length),
    {
      ...(o.rowGroupSize || o.pageSize
        ? { rowGroupSize: o.rowGroupSize ?? PINS_ROW_GROUP_SIZE, pageSize: o.pageSize ?? PINS_PAGE_SIZE }
        : PINS_WRITE_OPTIONS),
      ...(o.worker !== undefined ? { worker: o.worker } : {}),
    },
  )
}

/** A content row of a pin that is one raw block of `size` bytes (null: size not known). */
export function rawContentRow(cid: string, size: number | null, examinedAt = new Date(0)): ContentRow {
  return {
    cid,
    dag_size_bytes: size,
    blocks: 1,
    codec: 'raw',
    kind: 'raw',
    file_size_bytes: null,
    mime: null,
    complete: true,
    examined_at: examinedAt,
    problem: null,
  }
}
