// The format of content.parquet: what each pinned CID is (its DAG's size and block count as
// `ipfs dag stat --offline` reports them, codec, kind, UnixFS file size, MIME type from the first
// bytes, whether every block is local), one row per examined CID in CID order. Written by the
// content collector, read by `pin list`, `du` and `storage report`.
import type { ContentKind } from '../content/kinds.js'
import type { IndexColumn } from './writer.js'

/**
 * Version 2: `complete` as INT32 (1, 0, or null) instead of BOOLEAN, and statistics (null counts)
 * on `problem`: a lookup reads one page per column, and a BOOLEAN column, or one of nulls, was one
 * page per row group (hyparquet-writer sizes pages in bytes: a boolean counts an eighth of one,
 * a null none), decoded whole by every lookup (pins-format.ts has the same story).
 */
export const CONTENT_SCHEMA_VERSION = 2
/** Version 1 differs only in complete's physical type: a content index filled over hours is kept. */
export const CONTENT_READ_VERSIONS = [1, 2] as const
/** The physical type of `complete` by schema version. */
export function completeType(schemaVersion: number): 'BOOLEAN' | 'INT32' {
  return schemaVersion < 2 ? 'BOOLEAN' : 'INT32'
}

export { CONTENT_KINDS, type ContentKind } from '../content/kinds.js'

export interface ContentRow {
  cid: string
  /** `dag stat --offline` Size; null when the walk failed (a block is missing) or did not finish. */
  dag_size_bytes: number | null
  /** `dag stat --offline` NumBlocks; null like dag_size_bytes. */
  blocks: number | null
  /** From the CID: raw, dag-pb, dag-cbor, ... */
  codec: string
  /** From the root block (null when the root block is not local). */
  kind: ContentKind | null
  /** The UnixFS file size; null for anything but a file. */
  file_size_bytes: number | null
  /** Detected from the first bytes of a file (or raw block); null where unknown. */
  mime: string | null
  /** True when every block of the DAG is local; false when one is missing; null when not known (the walk timed out). */
  complete: boolean | null
  examined_at: Date
  /** Why a value above is null, or why the row is incomplete. */
  problem: string | null
}

/** The physical columns, in file order. */
export const CONTENT_FILE_COLUMNS = [
  { name: 'cid', type: 'BYTE_ARRAY' },
  { name: 'dag_size_bytes', type: 'INT64' },
  { name: 'blocks', type: 'INT64' },
  { name: 'codec', type: 'BYTE_ARRAY' },
  { name: 'kind', type: 'BYTE_ARRAY' },
  { name: 'file_size_bytes', type: 'INT64' },
  { name: 'mime', type: 'BYTE_ARRAY' },
  { name: 'complete', type: 'INT32' },
  { name: 'examined_at', type: 'INT64' },
  { name: 'problem', type: 'BYTE_ARRAY' },
] as const

export const CONTENT_COLUMNS = CONTENT_FILE_COLUMNS.map((c) => c.name)

/** Key-value metadata of content.parquet. */
export const CONTENT_META = {
  /** The pinset (pins.parquet's pinset_sha256) whose CIDs this file was cut to. */
  pinsetSha256: 'ipfs_kit.pinset_sha256',
  examined: 'ipfs_kit.examined',
  incomplete: 'ipfs_kit.incomplete',
  /** JSON: the bytes of the union of all pinned DAGs (content collector's PinnedUnion), or why not known. */
  union: 'ipfs_kit.pinned_union',
  /**
   * JSON: the LARGEST_KEPT largest examined DAGs, [{cid, size, kind}], largest first, then by CID
   * (storage report, and `pin list --sort size --limit n` for n up to that, read the footer only).
   */
  largest: 'ipfs_kit.largest',
  /** JSON: the first 10 incomplete pins, [{cid, problem}]. */
  incompleteSample: 'ipfs_kit.incomplete_sample',
  /**
   * JSON: {cid: dag_size_bytes} of this file's rows for the pins pins.parquet lists as first seen
   * in the last day (PINS_META.recentPins, when it lists them): `storage report` reads their
   * sizes here and looks up only the others. Each value is its row's.
   */
  recentSizes: 'ipfs_kit.recent_sizes',
  /** Kubo records no reads per CID: the file says so rather than carry an invented figure. */
  accessPatterns: 'ipfs_kit.access_patterns',
} as const

/** How many of the largest DAGs the footer lists (CONTENT_META.largest). */
export const LARGEST_KEPT = 10

export const ACCESS_PATTERNS_NOTE =
  'not recorded: Kubo keeps no count or time of reads per CID (its gateway and bitswap keep none per block), so ipfs-kit has no true access figure to store'

/**
 * Pages of 4 KB (pins.parquet has 16 KB): a lookup decodes a page of every column it reads, and
 * most of content.parquet's columns are numbers and nullable, so a 16 KB page held about 2,000 values
 * decoded (with a definition level each) for the one asked. Measured on a million rows, 50 lookups
 * in one process: 36 ms at 16 KB, 20 ms at 4 KB, no better at 2 KB. Row groups of 25,000: at
 * 10,000 the footer, parsed by every cold query, is 2.4 times as long (1.5 -> 3.9 ms to parse).
 */
export const CONTENT_WRITE_OPTIONS = {
  rowGroupSize: 25_000,
  firstRowGroupSize: 1_000,
  pageSize: 4096,
} as const

const big = (n: number | null) => (n === null ? null : BigInt(n))

/**
 * The columns of content.parquet for rows in CID order. Each has an offset index: `pin list`
 * looks up the rows of the pins it shows, a page per column.
 */
export function contentColumns(rows: readonly ContentRow[]): IndexColumn[] {
  return [
    // Required: decoded without a definition level per value (pins-format.ts).
    {
      name: 'cid',
      data: rows.map((r) => r.cid),
      type: 'STRING',
      codec: 'UNCOMPRESSED',
      nullable: false,
      pageIndex: true,
    },
    {
      name: 'dag_size_bytes',
      data: rows.map((r) => big(r.dag_size_bytes)),
      type: 'INT64',
      nullable: true,
      pageIndex: 'offset',
    },
    {
      name: 'blocks',
      data: rows.map((r) => big(r.blocks)),
      type: 'INT64',
      nullable: true,
      pageIndex: 'offset',
    },
    { name: 'codec', data: rows.map((r) => r.codec), type: 'STRING', statistics: false, pageIndex: 'offset' },
    {
      name: 'kind',
      data: rows.map((r) => r.kind),
      type: 'STRING',
      nullable: true,
      statistics: false,
      pageIndex: 'offset',
    },
    {
      name: 'file_size_bytes',
      data: rows.map((r) => big(r.file_size_bytes)),
      type: 'INT64',
      nullable: true,
      pageIndex: 'offset',
    },
    {
      name: 'mime',
      data: rows.map((r) => r.mime),
      type: 'STRING',
      nullable: true,
      statistics: false,
      pageIndex: 'offset',
    },
    {
      name: 'complete',
      data: rows.map((r) => (r.complete === null ? null : r.complete ? 1 : 0)),
      type: 'INT32',
      nullable: true,
      pageIndex: 'offset',
    },
    { name: 'examined_at', data: rows.map((r) => r.examined_at), type: 'TIMESTAMP', pageIndex: 'offset' },
    {
      name: 'problem',
      data: rows.map((r) => r.problem),
      type: 'STRING',
      nullable: true,
      // For its null count: a chunk of nulls alone (no problem in the group, the usual case) is
      // not decoded by a lookup (reader.ts readColumns).
      pageIndex: 'offset',
    },
  ]
}

/** Multicodec codes of the codecs a pin's CID may carry, by name (multiformats has no table). */
const CODECS: Record<number, string> = {
  85: 'raw',
  112: 'dag-pb',
  113: 'dag-cbor',
  297: 'dag-json',
  512: 'json',
  81: 'cbor',
  114: 'libp2p-key',
  120: 'git-raw',
  133: 'dag-jose',
}

export function codecName(code: number): string {
  return CODECS[code] ?? `0x${code.toString(16)}`
}
