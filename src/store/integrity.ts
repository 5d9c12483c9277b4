// Checksums inside every index file, so that a reader never hands out a value the manager did not
// write: a flipped byte in a CID can make another valid CID, which no CID check would catch.
// The footer carries one SHA-256 per column chunk, over the chunk's bytes, its row group's row
// count and the min/max statistics of the group's `cid` column (readers skip row groups by them),
// one over all other key-value metadata, and one per column chunk over its page index (which
// lies between the last row group and the footer, when a column has one). A reader checks the
// metadata digest when it opens the file, a chunk's digest before it decodes any byte of that
// chunk, and a page index's before it uses it, and reads only the chunks of the columns it needs.
import { createHash } from 'node:crypto'
import type { AsyncBuffer, FileMetaData, KeyValue, RowGroup, SchemaElement } from 'hyparquet'

/**
 * Key-value metadata entry: JSON `{ "groups": [[hex per column chunk], ...], "kv": hex,
 * "structure": hex, "indexes"?: [[hex or "" per column chunk], ...] }`.
 */
export const INTEGRITY_KEY = 'ipfs_kit.integrity'

export interface ByteRange {
  start: number
  end: number
}

export interface IntegrityRecord {
  /** Per row group, one digest per column chunk, in the schema's column order. */
  groups: string[][]
  kv: string
  /** Digest of the schema and of every row group's layout: what the decoder is told to do. */
  structure: string
  /**
   * Per row group, per column chunk: the digest of its page index (column index and offset
   * index bytes, which lie after the last row group), or '' when it has none. Absent when no
   * chunk has one.
   */
  indexes?: string[][]
}

/** The digest of one column chunk's page index: its column index and offset index bytes, with where they lie. */
export function pageIndexDigest(parts: ReadonlyArray<{ bytes: Uint8Array; start: number }>): string {
  const hash = createHash('sha256')
  for (const { bytes, start } of parts) hash.update(bytes).update(`\0${start}\0${bytes.length}\0`)
  return hash.digest('hex')
}

/** Where a column chunk's page indexes lie (column index, offset index), when it has them. */
export function pageIndexRanges(chunk: RowGroup['columns'][number]): ByteRange[] {
  const ranges: ByteRange[] = []
  for (const [offset, length] of [
    [chunk.column_index_offset, chunk.column_index_length],
    [chunk.offset_index_offset, chunk.offset_index_length],
  ] as const) {
    if (offset === undefined && length === undefined) continue
    const start = Number(offset)
    const size = Number(length)
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 0 || size <= 0) {
      throw new Error('a page index has an impossible offset or size')
    }
    ranges.push({ start, end: start + size })
  }
  return ranges
}

/** Where one column chunk's bytes lie: from its first page (dictionary or data) to its end. */
export function chunkRange(group: RowGroup, column: number): ByteRange {
  const m = group.columns[column]?.meta_data
  if (!m) throw new Error('a column chunk has no metadata')
  const start = Number(m.dictionary_page_offset ?? m.data_page_offset)
  const size = Number(m.total_compressed_size)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 0 || size < 0) {
    throw new Error('a column chunk has an impossible offset or size')
  }
  return { start, end: start + size }
}

/** The cid column's min and max statistics of a row group, as text ('' when absent). */
function cidBounds(group: RowGroup): [string, string] {
  const chunk = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'cid')
  const stats = chunk?.meta_data?.statistics
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v))
  return [text(stats?.min_value), text(stats?.max_value)]
}

/** The digest of one column chunk's bytes, with its row group's row count and cid bounds. */
export function chunkDigest(bytes: Uint8Array, group: RowGroup, column: number): string {
  const [min, max] = cidBounds(group)
  const path = group.columns[column]?.meta_data?.path_in_schema.join('.') ?? ''
  return createHash('sha256')
    .update(bytes)
    .update(`\0${Number(group.num_rows)}\0${column}\0${path}\0${min}\0${max}`)
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
  // Column chunks: only primitives and arrays of them, joined directly (a file of a million pins
  // has hundreds of chunks, and this runs on every query).
  const p = (v: unknown) => (v === undefined || v === null ? '' : String(v))
  const list = (v: readonly unknown[] | undefined) => (v ? v.map(p).join(',') : '')
  let lines = ''
  for (const g of groups) {
    lines += `${Number(g.num_rows)}\n`
    for (const c of g.columns) {
      const m = c.meta_data
      lines += `[${p(m?.type)},[${list(m?.encodings)}],[${list(m?.path_in_schema)}],${p(m?.codec)},${p(m?.num_values)},${p(m?.total_uncompressed_size)},${p(m?.total_compressed_size)},${p(m?.data_page_offset)},${p(m?.dictionary_page_offset)},${p(m?.index_page_offset)}]`
      // Where the page indexes are, for chunks that have them (files without any digest as before).
      if (
        c.column_index_offset !== undefined ||
        c.column_index_length !== undefined ||
        c.offset_index_offset !== undefined ||
        c.offset_index_length !== undefined
      ) {
        lines += `[${p(c.column_index_offset)},${p(c.column_index_length)},${p(c.offset_index_offset)},${p(c.offset_index_length)}]`
      }
      lines += '\n'
    }
  }
  hash.update(lines)
  return hash.digest('hex')
}

/** Reads and checks the integrity record of a parsed footer; throws with a one-line reason. */
export function checkFooterIntegrity(metadata: FileMetaData, fileSize: number): CheckedRecord {
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
    !record.groups.every((g) => Array.isArray(g) && g.every((d) => typeof d === 'string' && hex.test(d))) ||
    typeof record.kv !== 'string' ||
    typeof record.structure !== 'string' ||
    (record.indexes !== undefined &&
      (!Array.isArray(record.indexes) ||
        !record.indexes.every(
          (g) => Array.isArray(g) && g.every((d) => d === '' || (typeof d === 'string' && hex.test(d))),
        )))
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
  // Column chunks lie one after the other between the leading magic bytes and the footer.
  let previousEnd = 4
  for (const [i, group] of metadata.row_groups.entries()) {
    if (group.columns.length === 0) throw new Error(`row group ${i}: a row group has no columns`)
    if (record.groups[i]?.length !== group.columns.length) {
      throw new Error(
        `row group ${i} has ${group.columns.length} column chunks but other checksums (corrupt)`,
      )
    }
    for (let c = 0; c < group.columns.length; c++) {
      let range: ByteRange
      try {
        range = chunkRange(group, c)
      } catch (err) {
        throw new Error(`row group ${i}: ${(err as Error).message}`)
      }
      if (range.start < previousEnd || range.end > fileSize - 8) {
        throw new Error(`row group ${i} lies outside the file or overlaps another (corrupt)`)
      }
      previousEnd = range.end
    }
  }
  // After the row groups: the page indexes, each with its chunk's digest, exactly covering the
  // bytes up to the footer (no byte there that no checksum covers).
  const footerStart = fileSize - 8 - Number(metadata.metadata_length)
  if (!Number.isSafeInteger(footerStart) || footerStart < previousEnd) {
    throw new Error('its footer overlaps its row groups (corrupt)')
  }
  const indexRanges: Array<ByteRange & { group: number; column: number }> = []
  for (const [i, group] of metadata.row_groups.entries()) {
    for (const [c, chunk] of group.columns.entries()) {
      let ranges: ByteRange[]
      try {
        ranges = pageIndexRanges(chunk)
      } catch (err) {
        throw new Error(`row group ${i}: ${(err as Error).message}`)
      }
      const digest = record.indexes?.[i]?.[c] ?? ''
      if (ranges.length > 0 !== (digest !== '')) {
        throw new Error(
          `row group ${i} has a page index without its checksum, or a checksum without one (corrupt)`,
        )
      }
      for (const r of ranges) indexRanges.push({ ...r, group: i, column: c })
    }
  }
  indexRanges.sort((a, b) => a.start - b.start)
  let at = previousEnd
  for (const r of indexRanges) {
    if (r.start !== at) {
      throw new Error(
        r.start > at
          ? `it has ${r.start - at} bytes after its row groups that no checksum covers`
          : `row group ${r.group} has a page index that overlaps another part of the file (corrupt)`,
      )
    }
    at = r.end
  }
  if (at !== footerStart) {
    throw new Error(
      at < footerStart
        ? `it has ${footerStart - at} bytes after its row groups that no checksum covers`
        : 'its page indexes overlap its footer (corrupt)',
    )
  }
  return { ...record, indexRanges }
}

/** An integrity record checked against its footer, with where the page indexes lie (in file order). */
export interface CheckedRecord extends IntegrityRecord {
  indexRanges: Array<ByteRange & { group: number; column: number }>
}

/** An AsyncBuffer whose column chunks are checked against their digests before they are decoded. */
export interface VerifiedBuffer extends AsyncBuffer {
  /**
   * Reads and checks the column chunks of these columns (all when none are named) in every row
   * group holding rows [rowStart, rowEnd), and keeps their bytes for the decoding that follows.
   * Throws the reader's refusal on a mismatch. Call it before each decode, naming at least the
   * columns the decode reads: the decoder asks for many ranges at once, and a refusal raised
   * inside one of them could go unhandled.
   */
  verifyRows(rowStart: number, rowEnd: number, columns?: readonly string[]): Promise<void>
  /** Reads and checks the page indexes (a no-op when the file has none); slices of them are checked anyway. */
  verifyPageIndexes(): Promise<void>
}

interface Chunk extends ByteRange {
  group: number
  column: number
  /** A part of a column chunk's page index, not the chunk. */
  pageIndex?: boolean
}

/**
 * The column chunks and page indexes a long-lived reader (the manager's query worker,
 * src/cli/warm-worker.ts) has checked, by file identity: device, inode, size, modification and change time (nanoseconds).
 * ipfs-kit never rewrites an index file in place (it writes a new one and renames it), and any
 * write to a file moves its change time, which no user can set (to the kernel clock's granularity,
 * a few milliseconds): a file of the same identity holds the bytes that were checked, and a lookup
 * there reads only the pages it decodes, unhashed.
 * Off (null) in a CLI process, which checks what it reads once anyway.
 */
let remembered: Map<string, RememberedFile> | null = null
const REMEMBERED_FILES = 64

/**
 * What a long-lived reader knows of one file identity: the chunks and page indexes it checked, the
 * footers it decoded and checked (reader.ts openIndexFile), by the kind it was read as, and the
 * page indexes it parsed.
 */
export interface RememberedFile {
  chunks: Set<number>
  footers: Map<string, unknown>
  /** Page indexes parsed from checked bytes (reader.ts parsedPageIndex), by row group and column. */
  pageIndexes: Map<string, unknown>
}

/** Turns on remembering checked chunks for this process (see above). */
export function rememberCheckedChunks(): void {
  remembered ??= new Map()
}

/** This identity's record (most recently used now), or null where nothing is remembered. */
export function rememberedFile(identity: string | undefined): RememberedFile | null {
  if (!remembered || !identity) return null
  let file = remembered.get(identity)
  if (file) remembered.delete(identity)
  else file = { chunks: new Set(), footers: new Map(), pageIndexes: new Map() }
  // Most recently used last; the oldest files (replaced long ago, most likely) go first.
  remembered.set(identity, file)
  for (const key of remembered.keys()) {
    if (remembered.size <= REMEMBERED_FILES) break
    remembered.delete(key)
  }
  return file
}

/**
 * A VerifiedBuffer over a file: a slice that touches a column chunk is served from that chunk's
 * checked bytes, one that touches the page indexes from their checked bytes. Other bytes (the
 * magic bytes, the footer, checked at open) come straight from the source. With an identity
 * (where checked chunks are remembered), a chunk checked before is read from the source.
 */
export function verifyingBuffer(
  source: AsyncBuffer,
  metadata: FileMetaData,
  record: CheckedRecord,
  onReject: (reason: string) => Error,
  identity?: string,
): VerifiedBuffer {
  const known = rememberedFile(identity)?.chunks ?? null
  const columnNames = metadata.schema.slice(1).map((s) => s.name)
  // Every chunk, in file order (checkFooterIntegrity made sure they do not overlap).
  const chunks: Chunk[] = []
  /** Where each row group's chunks start in `chunks`. */
  const groupFirst: number[] = []
  for (const [group, g] of metadata.row_groups.entries()) {
    groupFirst.push(chunks.length)
    for (let column = 0; column < g.columns.length; column++) {
      chunks.push({ ...chunkRange(g, column), group, column })
    }
  }
  // The page indexes, after the last chunk, each checked (with the other part of its chunk's
  // page index) when first read, then kept.
  const firstIndex = chunks.length
  for (const r of record.indexRanges) chunks.push({ ...r, pageIndex: true })
  const indexBytes = new Map<number, Uint8Array>()
  const firstRows: number[] = []
  let rows = 0
  for (const group of metadata.row_groups) {
    firstRows.push(rows)
    rows += Number(group.num_rows)
  }
  /** The chunk holding byte `at`, or the index where the next chunk starts (as -index-1). */
  function find(at: number): number {
    let lo = 0
    let hi = chunks.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const c = chunks[mid] as Chunk
      if (at < c.start) hi = mid - 1
      else if (at >= c.end) lo = mid + 1
      else return mid
    }
    return -lo - 1
  }
  // The chunks of the current decode, checked.
  let checked = new Map<number, Uint8Array>()
  async function load(index: number): Promise<Uint8Array> {
    const c = chunks[index] as Chunk
    if (c.pageIndex) return loadPageIndex(index)
    const bytes = new Uint8Array(await source.slice(c.start, c.end))
    const group = metadata.row_groups[c.group] as RowGroup
    if (chunkDigest(bytes, group, c.column) !== record.groups[c.group]?.[c.column]) {
      const name = columnNames[c.column] ?? String(c.column)
      throw onReject(`row group ${c.group} column ${name} does not match its checksum (corrupt)`)
    }
    known?.add(index)
    return bytes
  }
  async function loadPageIndex(index: number): Promise<Uint8Array> {
    const kept = indexBytes.get(index)
    if (kept) return kept
    const c = chunks[index] as Chunk
    if (known?.has(index)) {
      // Checked before, in this very file (see `remembered`).
      const bytes = new Uint8Array(await source.slice(c.start, c.end))
      indexBytes.set(index, bytes)
      return bytes
    }
    const parts: Array<{ index: number; bytes: Uint8Array; start: number }> = []
    for (let i = firstIndex; i < chunks.length; i++) {
      const p = chunks[i] as Chunk
      if (p.group !== c.group || p.column !== c.column) continue
      parts.push({ index: i, bytes: new Uint8Array(await source.slice(p.start, p.end)), start: p.start })
    }
    if (pageIndexDigest(parts) !== record.indexes?.[c.group]?.[c.column]) {
      const name = columnNames[c.column] ?? String(c.column)
      throw onReject(
        `row group ${c.group} column ${name}: its page indexes do not match their checksum (corrupt)`,
      )
    }
    for (const p of parts) {
      indexBytes.set(p.index, p.bytes)
      known?.add(p.index)
    }
    return indexBytes.get(index) as Uint8Array
  }
  async function read(start: number, stop: number): Promise<ArrayBuffer> {
    // The decoder asks for whole column chunks: hand out the checked bytes themselves.
    const whole = find(start)
    const c = chunks[whole]
    if (whole >= 0 && c && !c.pageIndex && !checked.has(whole) && known?.has(whole) && stop <= c.end)
      return source.slice(start, stop)
    if (whole >= 0 && c && c.start === start && c.end === stop) {
      const bytes = checked.get(whole) ?? (await load(whole))
      checked.set(whole, bytes)
      if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
        return bytes.buffer as ArrayBuffer
    }
    const out = new Uint8Array(Math.max(0, stop - start))
    let at = start
    while (at < stop) {
      const index = find(at)
      if (index < 0) {
        // Not inside a chunk: copy up to the next chunk's start (or the end).
        const until = Math.min(chunks[-index - 1]?.start ?? stop, stop)
        out.set(new Uint8Array(await source.slice(at, until)), at - start)
        at = until
        continue
      }
      const c = chunks[index] as Chunk
      let bytes = checked.get(index)
      if (!bytes && !c.pageIndex && known?.has(index)) {
        const until = Math.min(c.end, stop)
        out.set(new Uint8Array(await source.slice(at, until)), at - start)
        at = until
        continue
      }
      if (!bytes) {
        bytes = await load(index)
        checked.set(index, bytes)
      }
      const until = Math.min(c.end, stop)
      out.set(bytes.subarray(at - c.start, until - c.start), at - start)
      at = until
    }
    return out.buffer
  }
  return {
    byteLength: source.byteLength,
    async verifyRows(rowStart: number, rowEnd: number, columns?: readonly string[]): Promise<void> {
      const wanted = columns ? new Set(columns) : null
      const next = new Map<number, Uint8Array>()
      // The first row group that ends after rowStart (a lookup touches one group of many).
      let lo = 0
      let hi = metadata.row_groups.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        const end = (firstRows[mid] as number) + Number(metadata.row_groups[mid]?.num_rows)
        if (end <= rowStart) lo = mid + 1
        else hi = mid
      }
      for (let group = lo; group < metadata.row_groups.length; group++) {
        const first = firstRows[group] as number
        if (first >= rowEnd) break
        const g = metadata.row_groups[group] as RowGroup
        if (Number(g.num_rows) === 0) continue
        for (let column = 0; column < g.columns.length; column++) {
          if (wanted && !wanted.has(columnNames[column] ?? '')) continue
          const index = (groupFirst[group] as number) + column
          // Checked before, in this very file: its pages are read as the decoder asks for them.
          if (known?.has(index) && !checked.has(index)) continue
          next.set(index, checked.get(index) ?? (await load(index)))
        }
      }
      checked = next
    },
    async verifyPageIndexes(): Promise<void> {
      for (let i = firstIndex; i < chunks.length; i++) await loadPageIndex(i)
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
    // A turn of the event loop between groups: the manager checks a whole million-pin file
    // (70 MB hashed) before it decides not to rewrite it, and answers its socket meanwhile.
    await new Promise((resolve) => setImmediate(resolve))
  }
  await buffer.verifyRows(0, 0)
  await buffer.verifyPageIndexes()
}
