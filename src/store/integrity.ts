// Checksums inside every index file, so that a reader never hands out a value the manager did not
// write: a flipped byte in a CID can make another valid CID, which no CID check would catch.
// The footer carries one SHA-256 per row group, over the row group's bytes, its row count and
// the min/max statistics of its `cid` column (readers skip row groups by them), and one over all
// other key-value metadata. A reader checks the metadata digest when it opens the file and a row
// group's digest before it decodes any byte of that group.
import { createHash } from 'node:crypto'
import type { AsyncBuffer, FileMetaData, KeyValue, RowGroup, SchemaElement } from 'hyparquet'

/** Key-value metadata entry: JSON `{ "groups": [hex, ...], "kv": hex }`. */
export const INTEGRITY_KEY = 'ipfs_kit.integrity'

export interface ByteRange {
  start: number
  end: number
}

export interface IntegrityRecord {
  groups: string[]
  kv: string
  /** Digest of the schema and of every row group's layout: what the decoder is told to do. */
  structure: string
}

/** Where a row group's bytes lie: from its first page to the end of its last column chunk. */
export function rowGroupRange(group: RowGroup): ByteRange {
  let start = Number.POSITIVE_INFINITY
  let end = 0
  for (const chunk of group.columns) {
    const m = chunk.meta_data
    if (!m) throw new Error('a column chunk has no metadata')
    const first = Number(m.dictionary_page_offset ?? m.data_page_offset)
    const size = Number(m.total_compressed_size)
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(size) || first < 0 || size < 0) {
      throw new Error('a column chunk has an impossible offset or size')
    }
    start = Math.min(start, first)
    end = Math.max(end, first + size)
  }
  if (group.columns.length === 0) throw new Error('a row group has no columns')
  return { start, end }
}

/** The cid column's min and max statistics of a row group, as text ('' when absent). */
function cidBounds(group: RowGroup): [string, string] {
  const chunk = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'cid')
  const stats = chunk?.meta_data?.statistics
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v))
  return [text(stats?.min_value), text(stats?.max_value)]
}

export function rowGroupDigest(bytes: Uint8Array, group: RowGroup): string {
  const [min, max] = cidBounds(group)
  return createHash('sha256')
    .update(bytes)
    .update(`\0${Number(group.num_rows)}\0${min}\0${max}`)
    .digest('hex')
}

/** Digest of every key-value entry but the integrity record itself, in key order. */
export function kvDigest(kv: readonly KeyValue[]): string {
  const hash = createHash('sha256')
  const entries = kv.filter((e) => e.key !== INTEGRITY_KEY).sort((a, b) => (a.key < b.key ? -1 : 1))
  for (const { key, value } of entries) hash.update(`${JSON.stringify(key)}=${JSON.stringify(value ?? '')}\n`)
  return hash.digest('hex')
}

const text = (v: unknown): string => {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${k}:${text(o[k])}`)
      .join(',')}}`
  }
  return String(v)
}

/**
 * Digest of every footer field the decoder acts on: each schema element (type, repetition,
 * logical and converted types, ...) and each column chunk's layout (codec, encodings, offsets,
 * sizes, value count). A flipped bit in any of them would make the decoder read checked bytes
 * the wrong way.
 */
export function structureDigest(schema: readonly SchemaElement[], groups: readonly RowGroup[]): string {
  const hash = createHash('sha256')
  for (const e of schema) {
    hash.update(
      text([
        e.name,
        e.type,
        e.type_length,
        e.repetition_type,
        e.converted_type,
        e.num_children,
        e.scale,
        e.precision,
        e.field_id,
        e.logical_type,
      ]),
    )
    hash.update('\n')
  }
  for (const g of groups) {
    hash.update(`${Number(g.num_rows)}\n`)
    for (const c of g.columns) {
      const m = c.meta_data
      hash.update(
        text([
          m?.type,
          m?.encodings,
          m?.path_in_schema,
          m?.codec,
          m?.num_values,
          m?.total_uncompressed_size,
          m?.total_compressed_size,
          m?.data_page_offset,
          m?.dictionary_page_offset,
          m?.index_page_offset,
        ]),
      )
      hash.update('\n')
    }
  }
  return hash.digest('hex')
}

/** Reads and checks the integrity record of a parsed footer; throws with a one-line reason. */
export function checkFooterIntegrity(metadata: FileMetaData, fileSize: number): IntegrityRecord {
  const kv = metadata.key_value_metadata ?? []
  const entry = kv.find((e) => e.key === INTEGRITY_KEY)
  if (!entry?.value) throw new Error('it has no checksums')
  let record: IntegrityRecord
  try {
    record = JSON.parse(entry.value) as IntegrityRecord
  } catch {
    throw new Error('its checksum record is not valid JSON')
  }
  const hex = /^[0-9a-f]{64}$/
  if (
    !Array.isArray(record.groups) ||
    !record.groups.every((g) => typeof g === 'string' && hex.test(g)) ||
    typeof record.kv !== 'string' ||
    typeof record.structure !== 'string'
  ) {
    throw new Error('its checksum record is malformed')
  }
  if (record.kv !== kvDigest(kv)) throw new Error('its metadata does not match its checksum (corrupt)')
  if (record.structure !== structureDigest(metadata.schema, metadata.row_groups)) {
    throw new Error('its schema or row group layout does not match its checksum (corrupt)')
  }
  if (record.groups.length !== metadata.row_groups.length) {
    throw new Error(
      `it has ${metadata.row_groups.length} row groups but checksums for ${record.groups.length} (corrupt)`,
    )
  }
  // Row groups lie one after the other between the leading magic bytes and the footer.
  let previousEnd = 4
  for (const [i, group] of metadata.row_groups.entries()) {
    let range: ByteRange
    try {
      range = rowGroupRange(group)
    } catch (err) {
      throw new Error(`row group ${i}: ${(err as Error).message}`)
    }
    if (range.start < previousEnd || range.end > fileSize - 8) {
      throw new Error(`row group ${i} lies outside the file or overlaps another (corrupt)`)
    }
    previousEnd = range.end
  }
  return record
}

/** An AsyncBuffer whose row groups are checked against their digests before they are decoded. */
export interface VerifiedBuffer extends AsyncBuffer {
  /**
   * Reads and checks every row group holding rows [rowStart, rowEnd), and keeps their bytes for
   * the decoding that follows. Throws the reader's refusal on a mismatch. Call it before each
   * decode: the decoder asks for many ranges at once, and a refusal raised inside one of them
   * could go unhandled.
   */
  verifyRows(rowStart: number, rowEnd: number): Promise<void>
}

/**
 * A VerifiedBuffer over a file: a slice that touches a row group is served from that group's
 * checked bytes. Bytes outside every row group (the footer, checked at open) come straight from
 * the source.
 */
export function verifyingBuffer(
  source: AsyncBuffer,
  metadata: FileMetaData,
  record: IntegrityRecord,
  onReject: (reason: string) => Error,
): VerifiedBuffer {
  const ranges = metadata.row_groups.map(rowGroupRange)
  const firstRows: number[] = []
  let rows = 0
  for (const group of metadata.row_groups) {
    firstRows.push(rows)
    rows += Number(group.num_rows)
  }
  // The groups of the current decode, checked.
  let checked = new Map<number, Uint8Array>()
  async function load(index: number): Promise<Uint8Array> {
    const range = ranges[index] as ByteRange
    const bytes = new Uint8Array(await source.slice(range.start, range.end))
    if (rowGroupDigest(bytes, metadata.row_groups[index] as RowGroup) !== record.groups[index]) {
      throw onReject(`row group ${index} does not match its checksum (corrupt)`)
    }
    return bytes
  }
  async function read(start: number, stop: number): Promise<ArrayBuffer> {
    const out = new Uint8Array(Math.max(0, stop - start))
    let at = start
    while (at < stop) {
      const index = ranges.findIndex((r) => at >= r.start && at < r.end)
      if (index < 0) {
        // Not inside a group: copy up to the next group's start (or the end).
        const until = Math.min(ranges.find((r) => r.start > at)?.start ?? stop, stop)
        out.set(new Uint8Array(await source.slice(at, until)), at - start)
        at = until
        continue
      }
      const range = ranges[index] as ByteRange
      let bytes = checked.get(index)
      if (!bytes) {
        bytes = await load(index)
        checked.set(index, bytes)
      }
      const until = Math.min(range.end, stop)
      out.set(bytes.subarray(at - range.start, until - range.start), at - start)
      at = until
    }
    return out.buffer
  }
  return {
    byteLength: source.byteLength,
    async verifyRows(rowStart: number, rowEnd: number): Promise<void> {
      const next = new Map<number, Uint8Array>()
      for (const [index, first] of firstRows.entries()) {
        const last = first + Number(metadata.row_groups[index]?.num_rows)
        if (last <= rowStart || first >= rowEnd || last === first) continue
        next.set(index, checked.get(index) ?? (await load(index)))
      }
      checked = next
    },
    slice(start: number, end?: number): Promise<ArrayBuffer> {
      const result = read(start, end ?? source.byteLength)
      // Only reached when a decode skipped verifyRows; never leave its refusal unhandled.
      result.catch(() => {})
      return result
    },
  }
}

/** Checks every row group of a file, one at a time (for whole-file validation). */
export async function verifyAllGroups(buffer: VerifiedBuffer, metadata: FileMetaData): Promise<void> {
  let first = 0
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows)
    await buffer.verifyRows(first, first + rows)
    first += rows
  }
  await buffer.verifyRows(0, 0)
}
