// The index files of DESIGN.md: where each lives under IPFS_KIT_PATH, the key-value metadata
// every file carries, and the schema versions a reader knows. Shared by the writer and reader.
import { join } from 'node:path'

export type IndexFileKind = 'pins' | 'system' | 'network' | 'storage' | 'files'

export const INDEX_FILES: Record<IndexFileKind, string> = {
  pins: 'pin_metadata/parquet_storage/pins.parquet',
  system: 'program_state/parquet/system_state.parquet',
  network: 'program_state/parquet/network_state.parquet',
  storage: 'program_state/parquet/storage_state.parquet',
  files: 'program_state/parquet/files_state.parquet',
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

/** Key-value metadata of pins.parquet beyond the common ones. */
export const PINS_META = {
  pinsetSha256: 'ipfs_kit.pinset_sha256',
  countRecursive: 'ipfs_kit.count_recursive',
  countDirect: 'ipfs_kit.count_direct',
} as const

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

/** The schema versions this build reads, per file; a file of any other version is rejected. */
export const KNOWN_SCHEMA_VERSIONS: Record<IndexFileKind, readonly number[]> = {
  pins: [1],
  system: [1],
  network: [1],
  storage: [1],
  files: [1],
}

/** The columns (name and physical type) a file of this kind must have; null until its collector defines it. */
export const REQUIRED_COLUMNS: Record<IndexFileKind, ReadonlyArray<{ name: string; type: string }> | null> = {
  pins: [
    { name: 'cid', type: 'BYTE_ARRAY' },
    { name: 'type', type: 'BYTE_ARRAY' },
    { name: 'name', type: 'BYTE_ARRAY' },
    { name: 'indexed_at', type: 'INT64' },
  ],
  system: null,
  network: null,
  storage: null,
  files: null,
}

/** The columns that hold CIDs, which a reader checks before it prints any of them. */
export const CID_COLUMNS: Record<IndexFileKind, readonly string[]> = {
  pins: ['cid'],
  system: [],
  network: [],
  storage: [],
  files: [],
}
