// Opens and validates index files for readers. DESIGN.md's acceptance rules: the file parses,
// its schema version is known, its peer ID is the repository's, and every CID is a valid CID.
// Every byte of one query is read through one open descriptor, so a rename mid-query cannot mix
// the old and new file.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs'
import type { AsyncBuffer, ColumnIndex, FileMetaData, SchemaElement } from 'hyparquet'
import {
  parquetMetadataAsync,
  parquetRead,
  parquetReadObjects,
  readColumnIndex,
  readOffsetIndex,
} from 'hyparquet'
import { IndexMissingError, IndexRejectedError } from '../errors.js'
import {
  checkFooterIntegrity,
  rememberedFile,
  type VerifiedBuffer,
  verifyAllGroups,
  verifyingBuffer,
} from './integrity.js'
import {
  CID_COLUMNS,
  type FileKind,
  KNOWN_SCHEMA_VERSIONS,
  MAX_TEXT_CELL_BYTES,
  META,
  requiredColumns,
} from './layout.js'

type PageLocation = ReturnType<typeof readOffsetIndex>['page_locations'][number]

export interface IndexHeader {
  kind: FileKind
  schemaVersion: number
  writer: string
  peerId: string
  kuboVersion: string | null
  generatedAt: Date
  rowCount: number
  /** All key-value metadata, including the fields above. */
  kv: Record<string, string>
}

export interface OpenIndexFile {
  path: string
  size: number
  header: IndexHeader
  metadata: FileMetaData
  /**
   * Reads ranges through the one descriptor this file was opened with; call verifyRows before
   * decoding rows, so that each row group is checked against its checksum first.
   */
  buffer: VerifiedBuffer
  /**
   * Page indexes parsed from this file's checked bytes, by row group and column (parsedPageIndex):
   * kept with the file's remembered record in a long-lived reader, for this open file elsewhere.
   */
  pageIndexes: Map<string, unknown>
  close(): Promise<void>
}

export type IndexFileCheck =
  | { status: 'missing'; path: string }
  | { status: 'valid'; path: string; size: number; header: IndexHeader }
  | { status: 'invalid'; path: string; reason: string }

/**
 * An AsyncBuffer over one open file: never reopens the path. It reads synchronously: a query
 * makes a handful of reads of a local file, and each trip through the thread pool would cost
 * more than the read itself (opening, too, is synchronous, for the same reason).
 */
function fileBuffer(fd: number, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size)
      const length = Math.max(0, stop - start)
      const bytes = new Uint8Array(length)
      let offset = 0
      while (offset < length) {
        const bytesRead = readSync(fd, bytes, offset, length - offset, start + offset)
        if (bytesRead === 0)
          throw new Error(`file ended at ${start + offset} bytes, before its size of ${size}`)
        offset += bytesRead
      }
      return bytes.buffer
    },
  }
}

function parseHeader(path: string, kind: FileKind, metadata: FileMetaData): IndexHeader {
  const reject = (reason: string) => new IndexRejectedError(path, reason)
  const kv: Record<string, string> = {}
  for (const { key, value } of metadata.key_value_metadata ?? []) kv[key] = value ?? ''
  if (kv[META.kind] === undefined || kv[META.schemaVersion] === undefined) {
    throw reject('it has no ipfs-kit metadata (not written by ipfs-kit)')
  }
  if (kv[META.kind] !== kind)
    throw reject(`it is a ${JSON.stringify(kv[META.kind])} file, not a ${kind} file`)
  const schemaVersion = Number(kv[META.schemaVersion])
  if (!KNOWN_SCHEMA_VERSIONS[kind].includes(schemaVersion)) {
    throw reject(
      `unknown schema version ${JSON.stringify(kv[META.schemaVersion])} (this ipfs-kit reads ${KNOWN_SCHEMA_VERSIONS[kind].join(', ')})`,
    )
  }
  const writer = kv[META.writer] ?? ''
  if (!writer.startsWith('ipfs-kit ')) throw reject(`its writer is ${JSON.stringify(writer)}, not ipfs-kit`)
  const peerId = kv[META.peerId] ?? ''
  if (peerId === '') throw reject('it names no peer ID')
  const generatedAt = new Date(kv[META.generatedAt] ?? '')
  if (Number.isNaN(generatedAt.getTime()))
    throw reject(`invalid generated_at ${JSON.stringify(kv[META.generatedAt])}`)
  const rowCountText = kv[META.rowCount] ?? ''
  const rowCount = Number(rowCountText)
  if (!/^\d+$/.test(rowCountText)) throw reject(`invalid row count ${JSON.stringify(rowCountText)}`)
  const footerRows = Number(metadata.num_rows)
  const groupRows = metadata.row_groups.reduce((sum, g) => sum + Number(g.num_rows), 0)
  if (footerRows !== rowCount || groupRows !== rowCount) {
    throw reject(
      `row counts disagree: metadata says ${rowCount}, footer ${footerRows}, row groups ${groupRows}`,
    )
  }
  const required = requiredColumns(kind, schemaVersion)
  {
    const columns = new Map(metadata.schema.slice(1).map((s) => [s.name, s.type]))
    for (const col of required) {
      const type = columns.get(col.name)
      if (type === undefined) throw reject(`it has no column ${col.name}`)
      if (type !== col.type) throw reject(`column ${col.name} is ${type}, expected ${col.type}`)
    }
  }
  // Text columns: no more bytes than their values can hold, so a forged giant cell is refused
  // from the footer, before a byte of it is decoded.
  for (const [i, group] of metadata.row_groups.entries()) {
    for (const chunk of group.columns) {
      const m = chunk.meta_data
      if (m?.type !== 'BYTE_ARRAY') continue
      const limit = Number(m.num_values) * (MAX_TEXT_CELL_BYTES + 8) + 65_536
      if (Number(m.total_uncompressed_size) > limit) {
        throw reject(
          `row group ${i} column ${m.path_in_schema.join('.')} holds ${m.total_uncompressed_size} bytes for ${m.num_values} values, more than ${MAX_TEXT_CELL_BYTES} bytes a value`,
        )
      }
    }
  }
  return {
    kind,
    schemaVersion,
    writer,
    peerId,
    kuboVersion: kv[META.kuboVersion] || null,
    generatedAt,
    rowCount,
    kv,
  }
}

/**
 * Opens an index file and validates its footer and metadata against the repository's peer ID.
 * Throws IndexRejectedError with a one-line reason; the caller must close() what it gets.
 */
export async function openIndexFile(
  path: string,
  kind: FileKind,
  expectedPeerId: string,
): Promise<OpenIndexFile> {
  const reject = (reason: string) => new IndexRejectedError(path, reason)
  let fd: number
  try {
    const st = lstatSync(path)
    if (st.isSymbolicLink()) throw reject('it is a symbolic link; ipfs-kit writes regular files only')
    if (!st.isFile()) throw reject('it is not a regular file')
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    if (err instanceof IndexRejectedError) throw err
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new IndexMissingError(path)
    if (code === 'EACCES' || code === 'EPERM') throw reject('it is not readable by this user')
    if (code === 'ELOOP') throw reject('it is a symbolic link; ipfs-kit writes regular files only')
    throw reject(`cannot open it: ${(err as Error).message}`)
  }
  let open = true
  const close = async () => {
    if (open) closeSync(fd)
    open = false
  }
  try {
    const st = fstatSync(fd, { bigint: true })
    if (!st.isFile()) throw reject('it is not a regular file')
    const size = Number(st.size)
    // What a long-lived reader remembers checked chunks by (integrity.ts).
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
    if (size < 12) throw reject(`it is ${size} bytes, too small to be a Parquet file`)
    const buffer = fileBuffer(fd, size)
    const checkPeer = (header: IndexHeader) => {
      if (header.peerId !== expectedPeerId)
        throw reject(`it belongs to peer ${header.peerId}, not to this repository's peer ${expectedPeerId}`)
    }
    // A footer decoded and checked before, in this long-lived reader, of a file of the same
    // identity (the same bytes: integrity.ts says why) and read as the same kind.
    const remembered = rememberedFile(identity)
    const known = remembered?.footers.get(kind) as RememberedFooter | undefined
    if (known) {
      checkPeer(known.header)
      return {
        path,
        size,
        header: known.header,
        metadata: known.metadata,
        buffer: verifyingBuffer(buffer, known.metadata, known.record, reject, identity),
        pageIndexes: remembered?.pageIndexes ?? new Map(),
        close,
      }
    }
    const head = new Uint8Array(await buffer.slice(0, 4))
    if (String.fromCharCode(...head) !== 'PAR1')
      throw reject('it does not start with the Parquet magic bytes')
    let metadata: FileMetaData
    try {
      metadata = await parquetMetadataAsync(buffer)
    } catch (err) {
      throw reject(`its Parquet footer cannot be read (${(err as Error).message}); truncated or corrupt`)
    }
    const header = parseHeader(path, kind, metadata)
    checkPeer(header)
    let record: ReturnType<typeof checkFooterIntegrity>
    try {
      record = checkFooterIntegrity(metadata, size)
    } catch (err) {
      throw reject((err as Error).message)
    }
    remembered?.footers.set(kind, { header, metadata, record } satisfies RememberedFooter)
    return {
      path,
      size,
      header,
      metadata,
      buffer: verifyingBuffer(buffer, metadata, record, reject, identity),
      pageIndexes: remembered?.pageIndexes ?? new Map(),
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** A footer the query worker decoded and checked (integrity.ts RememberedFile). */
interface RememberedFooter {
  header: IndexHeader
  metadata: FileMetaData
  record: ReturnType<typeof checkFooterIntegrity>
}

/**
 * The `cid` statistics of a pins file: every row group's min and max must be valid CIDs, in
 * ascending order from group to group. Readers skip row groups by them, so a file whose CIDs
 * are all fake would otherwise answer "not pinned" for every real CID without printing one.
 * Given the CIDs a lookup is for, only the bounds its answer rests on are parsed (those of the
 * groups that may hold them and of the groups on either side); the order is checked for all.
 */
export async function checkCidStatistics(file: OpenIndexFile, lookup?: readonly string[]): Promise<void> {
  const { CID } = await import('multiformats/cid')
  const column = file.metadata.schema.slice(1).findIndex((s) => s.name === 'cid')
  const groups = file.metadata.row_groups.filter((g) => Number(g.num_rows) > 0)
  const boundsOf = (g: (typeof groups)[number]) => {
    const stats = g.columns[column]?.meta_data?.statistics
    return [stats?.min_value, stats?.max_value]
  }
  // Row group numbers as the file counts them (empty groups included), for the messages.
  const numbers = file.metadata.row_groups.flatMap((g, i) => (Number(g.num_rows) > 0 ? [i] : []))
  // The groups whose bounds a lookup relies on: for each CID, the last group starting at or
  // below it and the one after.
  let parsed: Set<number> | null = null
  if (lookup) {
    parsed = new Set()
    // The groups in CID order, found by halving: the order of the bounds is checked below
    // anyway (a file out of order is refused), and a full listing looks up a million CIDs.
    const mins = groups.map((g) => boundsOf(g)[0])
    for (const cid of lookup) {
      let low = 0
      let high = mins.length
      while (low < high) {
        const mid = (low + high) >>> 1
        const min = mins[mid]
        if (typeof min !== 'string' || min <= cid) low = mid + 1
        else high = mid
      }
      const at = low - 1
      parsed.add(Math.max(at, 0))
      if (at + 1 < groups.length) parsed.add(at + 1)
    }
  }
  let previousMax = ''
  for (const [i, group] of groups.entries()) {
    const bounds = boundsOf(group)
    for (const value of bounds) {
      try {
        if (typeof value !== 'string') throw new Error('missing')
        if (parsed === null || parsed.has(i)) CID.parse(value)
      } catch {
        const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : 'none'
        throw new IndexRejectedError(
          file.path,
          `row group ${numbers[i]} has an invalid CID as its min or max: ${shown}`,
        )
      }
    }
    const [min, max] = bounds as [string, string]
    if (min > max || min < previousMax) {
      throw new IndexRejectedError(file.path, `row group ${numbers[i]} is not in CID order`)
    }
    previousMax = max
  }
}

/**
 * Decodes rows [rowStart, rowEnd) (all rows by default) of these columns (all by default), after
 * checking the checksum of every column chunk they lie in. A decoding failure is a refusal of
 * the file.
 */
export async function readRows(
  file: OpenIndexFile,
  range: { columns?: readonly string[]; rowStart?: number; rowEnd?: number } = {},
): Promise<Record<string, unknown>[]> {
  const rowStart = range.rowStart ?? 0
  const rowEnd = range.rowEnd ?? file.header.rowCount
  await file.buffer.verifyRows(rowStart, rowEnd, range.columns)
  try {
    return await parquetReadObjects({
      file: file.buffer,
      metadata: file.metadata,
      ...(range.columns ? { columns: [...range.columns] } : {}),
      rowStart,
      rowEnd,
    })
  } catch (err) {
    throw new IndexRejectedError(file.path, `its rows cannot be read (${(err as Error).message})`)
  }
}

/** One column's values for rows [rowStart, rowEnd), checked like readRows, as an array (no object per row). */
export async function readColumn(
  file: OpenIndexFile,
  column: string,
  rowStart: number,
  rowEnd: number,
): Promise<unknown[]> {
  return (await readColumns(file, [column], rowStart, rowEnd))[column] as unknown[]
}

/** Some columns' values for rows [rowStart, rowEnd), checked like readRows, an array per column. */
export async function readColumns(
  file: OpenIndexFile,
  columns: readonly string[],
  rowStart: number,
  rowEnd: number,
): Promise<Record<string, unknown[]>> {
  await file.buffer.verifyRows(rowStart, rowEnd, columns)
  const out: Record<string, unknown[]> = {}
  const decoded: string[] = []
  for (const c of columns) {
    // A column whose every chunk in the range holds nulls alone (its statistics, in the checked
    // footer, say so) is not decoded: a lookup would decode a whole group's page of them, as
    // hyparquet-writer does not split pages of nulls (content-format.ts).
    const nulls = onlyNulls(file, c, rowStart, rowEnd)
    out[c] = new Array<unknown>(rowEnd - rowStart).fill(nulls ? null : undefined)
    if (!nulls) decoded.push(c)
  }
  if (decoded.length === 0 || rowEnd <= rowStart) return out
  try {
    const pageLocationsByGroup = await narrowedPageLocations(file, decoded, rowStart, rowEnd)
    await parquetRead({
      file: file.buffer,
      metadata: file.metadata,
      columns: decoded,
      rowStart,
      rowEnd,
      // Where a column has a page index: decode only the pages that hold the rows, found by its
      // offset index as parsed before where it was (hyparquet would read and parse it each time).
      useOffsetIndex: true,
      ...({ pageLocationsByGroup } as object),
      onChunk: (chunk) => {
        const values = out[chunk.columnName]
        if (!values) return
        // A chunk is a decoded page or more; only the rows asked for are copied (often one of thousands).
        const from = Math.max(0, rowStart - chunk.rowStart)
        const to = Math.min(chunk.columnData.length, rowEnd - chunk.rowStart)
        for (let i = from; i < to; i++) values[chunk.rowStart + i - rowStart] = chunk.columnData[i]
      },
    })
  } catch (err) {
    throw new IndexRejectedError(file.path, `its rows cannot be read (${(err as Error).message})`)
  }
  return out
}

/**
 * The offset indexes (page locations) of these columns in the row groups that rows [rowStart,
 * rowEnd) cover only in part, as hyparquet's plan takes them (by row group, then column name).
 */
async function narrowedPageLocations(
  file: OpenIndexFile,
  columns: readonly string[],
  rowStart: number,
  rowEnd: number,
): Promise<Array<Record<string, PageLocation[]>>> {
  const names = file.metadata.schema.slice(1).map((s) => s.name)
  const byGroup: Array<Record<string, PageLocation[]>> = []
  let start = 0
  for (const [group, g] of file.metadata.row_groups.entries()) {
    const end = start + Number(g.num_rows)
    const locations: Record<string, PageLocation[]> = {}
    byGroup.push(locations)
    if (end > rowStart && start < rowEnd && (start < rowStart || end > rowEnd)) {
      for (const name of columns) {
        const column = names.indexOf(name)
        const pages = column < 0 ? null : await parsedPageIndex(file, group, column, 'offset')
        if (pages) locations[name] = pages as PageLocation[]
      }
    }
    if (end >= rowEnd) break
    start = end
  }
  return byGroup
}

/**
 * One column chunk's offset index (its page locations) or column index, read through the
 * checked buffer and parsed once per file (OpenIndexFile.pageIndexes); null where the chunk has
 * none. A parse failure throws (the caller says how the file is refused).
 */
async function parsedPageIndex(
  file: OpenIndexFile,
  group: number,
  column: number,
  which: 'offset' | 'column',
): Promise<PageLocation[] | ColumnIndex | null> {
  const key = `${which}:${group}:${column}`
  const known = file.pageIndexes.get(key) as PageLocation[] | ColumnIndex | undefined
  if (known) return known
  const chunk = file.metadata.row_groups[group]?.columns[column]
  const offset = which === 'offset' ? chunk?.offset_index_offset : chunk?.column_index_offset
  const length = which === 'offset' ? chunk?.offset_index_length : chunk?.column_index_length
  if (!offset || !length) return null
  const bytes = await file.buffer.slice(Number(offset), Number(offset) + length)
  const reader = { view: new DataView(bytes), offset: 0 }
  const parsed =
    which === 'offset'
      ? readOffsetIndex(reader).page_locations
      : readColumnIndex(reader, file.metadata.schema[column + 1] as SchemaElement)
  file.pageIndexes.set(key, parsed)
  return parsed
}

/** True when the statistics of every chunk of this column in rows [rowStart, rowEnd) count as many nulls as rows. */
function onlyNulls(file: OpenIndexFile, column: string, rowStart: number, rowEnd: number): boolean {
  let start = 0
  let any = false
  for (const group of file.metadata.row_groups) {
    const rows = Number(group.num_rows)
    const end = start + rows
    if (end > rowStart && start < rowEnd) {
      const chunk = group.columns.find(
        (c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === column,
      )
      const nulls = chunk?.meta_data?.statistics?.null_count
      if (nulls === undefined || Number(nulls) !== rows) return false
      any = true
    }
    if (end >= rowEnd) break
    start = end
  }
  return any
}

/** Reads every value of the CID columns and checks it with multiformats; throws on the first bad one. */
export async function verifyCidColumns(file: OpenIndexFile, kind: FileKind): Promise<void> {
  const columns = CID_COLUMNS[kind]
  if (columns.length === 0 || file.header.rowCount === 0) return
  if (kind === 'pins') await checkCidStatistics(file)
  const { CID } = await import('multiformats/cid')
  // One row group at a time: a million pins are never all in memory at once.
  let rowNo = 0
  for (const group of file.metadata.row_groups) {
    const rowStart = rowNo
    const rowEnd = rowStart + Number(group.num_rows)
    const rows = await readRows(file, { columns, rowStart, rowEnd })
    verifyCidRows(file, kind, columns, rows, rowStart, CID)
    rowNo = rowEnd
  }
  await file.buffer.verifyRows(0, 0)
}

function verifyCidRows(
  file: OpenIndexFile,
  kind: FileKind,
  columns: readonly string[],
  rows: Record<string, unknown>[],
  firstRow: number,
  CID: typeof import('multiformats/cid').CID,
): void {
  let rowNo = firstRow
  for (const row of rows) {
    for (const col of columns) {
      const value = row[col]
      // A state file may have no value where the node reported none (null, with its reason); a
      // pins file (or delta, or subset) always has one.
      if (
        (value === null || value === undefined) &&
        !kind.startsWith('pins') &&
        kind !== 'content' &&
        kind !== 'pin_events'
      )
        continue
      try {
        if (typeof value !== 'string' || value.length > MAX_TEXT_CELL_BYTES)
          throw new Error('not a CID string')
        CID.parse(value)
      } catch {
        const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value)
        throw new IndexRejectedError(file.path, `row ${rowNo} has an invalid CID in column ${col}: ${shown}`)
      }
    }
    rowNo++
  }
}

/** Opens, validates (every checksum and CID) and closes a file: for `doctor` and the tests. */
export async function checkIndexFile(
  path: string,
  kind: FileKind,
  expectedPeerId: string,
): Promise<IndexFileCheck> {
  let file: OpenIndexFile
  try {
    file = await openIndexFile(path, kind, expectedPeerId)
  } catch (err) {
    if (err instanceof IndexRejectedError) {
      return err instanceof IndexMissingError
        ? { status: 'missing', path }
        : { status: 'invalid', path, reason: err.reason }
    }
    throw err
  }
  try {
    await verifyCidColumns(file, kind)
    // Every other column chunk too: a query reads only the columns it needs.
    await verifyAllGroups(file.buffer, file.metadata)
    return { status: 'valid', path, size: file.size, header: file.header }
  } catch (err) {
    if (err instanceof IndexRejectedError) return { status: 'invalid', path, reason: err.reason }
    throw err
  } finally {
    await file.close()
  }
}

export interface RowRange {
  start: number
  end: number
}

/**
 * The row ranges of a file sorted by `cid` (with min/max statistics and a page index on it) that
 * may hold one of these CIDs: the row groups whose bounds can hold one, and in each only the
 * pages whose page index can. Call checkCidStatistics(file, cids) first: the answer rests on
 * those bounds.
 */
export async function cidRanges(file: OpenIndexFile, cids: readonly string[]): Promise<RowRange[]> {
  const cidColumn = file.metadata.schema.slice(1).findIndex((s) => s.name === 'cid')
  const ranges: RowRange[] = []
  let start = 0
  for (const [i, group] of file.metadata.row_groups.entries()) {
    const rows = Number(group.num_rows)
    const end = start + rows
    const stats = group.columns[cidColumn]?.meta_data?.statistics
    const min = stats?.min_value
    const max = stats?.max_value
    const keep =
      rows > 0 &&
      (typeof min !== 'string' || typeof max !== 'string' || cids.some((c) => c >= min && c <= max))
    if (keep) ranges.push(...(await cidPageSpans(file, { start, end, group: i }, [...cids])))
    start = end
  }
  return ranges
}

/**
 * The rows of one row group that may hold one of these CIDs, by the page index of its `cid`
 * column (checked against its checksum): one span per run of pages whose min and max can hold
 * one, none when no page can. The whole group when it has no page index.
 */
export async function cidPageSpans(
  file: OpenIndexFile,
  g: RowRange & { group: number },
  cids: string[],
): Promise<RowRange[]> {
  const columns = file.metadata.schema.slice(1)
  const cidColumn = columns.findIndex((s) => s.name === 'cid')
  const chunk = file.metadata.row_groups[g.group]?.columns[cidColumn]
  if (
    !chunk?.column_index_offset ||
    !chunk.column_index_length ||
    !chunk.offset_index_offset ||
    !chunk.offset_index_length
  )
    return [g]
  const bad = (why: string) =>
    new IndexRejectedError(file.path, `row group ${g.group} has an invalid page index (${why})`)
  let mins: unknown[]
  let maxes: unknown[]
  let firstRows: number[]
  try {
    const index = (await parsedPageIndex(file, g.group, cidColumn, 'column')) as ColumnIndex
    mins = index.min_values
    maxes = index.max_values
    const pages = (await parsedPageIndex(file, g.group, cidColumn, 'offset')) as PageLocation[]
    firstRows = pages.map((p) => Number(p.first_row_index))
  } catch (err) {
    if (err instanceof IndexRejectedError) throw err
    throw bad((err as Error).message)
  }
  const rows = g.end - g.start
  if (mins.length !== firstRows.length || maxes.length !== firstRows.length || firstRows[0] !== 0)
    throw bad('its pages do not add up')
  const spans: RowRange[] = []
  // The pages and the CIDs asked for are walked together, both in order (the pages of a column
  // sorted by CID follow one another: checked here, as the walk relies on it).
  const sorted = cids.length > 1 ? [...cids].sort() : cids
  let k = 0
  let previousMax = ''
  for (let p = 0; p < firstRows.length; p++) {
    const min = mins[p]
    const max = maxes[p]
    const first = firstRows[p] as number
    const next = p + 1 < firstRows.length ? (firstRows[p + 1] as number) : rows
    if (typeof min !== 'string' || typeof max !== 'string' || !(next > first) || next > rows)
      throw bad(`page ${p}`)
    if (min > max || min < previousMax) throw bad(`page ${p} is out of CID order`)
    previousMax = max
    while (k < sorted.length && (sorted[k] as string) < min) k++
    if (k === sorted.length || (sorted[k] as string) > max) continue
    const last = spans.at(-1)
    if (last && last.end === g.start + first) last.end = g.start + next
    else spans.push({ start: g.start + first, end: g.start + next })
  }
  return spans
}

type CidParse = (text: string) => void
let parseCid: CidParse | undefined
/**
 * A check that text is a CID: CID.parse from multiformats, loaded on first use (a query that
 * prints no CID never loads it); throws when it is not. The CIDs of one node mostly share their
 * version, codec, hash function and digest length: once a base32 CIDv1 has parsed, another whose
 * bytes (multiformats' base32 decoder) have the same length and begin with the same header
 * would parse the same way, and is not parsed again (a third of the cost; a million per full
 * listing). Anything else goes through CID.parse.
 */
export async function cidParser(): Promise<CidParse> {
  if (!parseCid) {
    const [{ CID }, { base32 }] = await Promise.all([
      import('multiformats/cid'),
      import('multiformats/bases/base32'),
    ])
    let header: Uint8Array | null = null
    let size = 0
    const sameHeader = (bytes: Uint8Array): boolean => {
      if (header === null || bytes.length !== size) return false
      for (let i = 0; i < header.length; i++) if (bytes[i] !== header[i]) return false
      return true
    }
    parseCid = (text) => {
      const base32v1 = text.charCodeAt(0) === 0x62 // 'b'
      if (base32v1 && header !== null && sameHeader(base32.decode(text))) return
      const cid = CID.parse(text)
      if (base32v1 && cid.version === 1) {
        header = cid.bytes.slice(0, cid.bytes.length - cid.multihash.digest.length)
        size = cid.bytes.length
      }
    }
  }
  return parseCid
}
