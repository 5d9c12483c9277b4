// Reads content.parquet (content-format.ts), checked like every index file: a lookup reads only
// the pages that may hold the CIDs asked for; a scan reads a row group at a time. Every value is
// checked for sense before it is handed out (no negative size, a known kind, a valid CID).
import { IndexMissingError, IndexRejectedError } from '../errors.js'
import {
  CONTENT_COLUMNS,
  CONTENT_KINDS,
  CONTENT_META,
  type ContentKind,
  type ContentRow,
  LARGEST_KEPT,
} from './content-format.js'
import { contentPath, MAX_TEXT_CELL_BYTES } from './layout.js'
import {
  checkCidStatistics,
  cidParser,
  cidRanges,
  type OpenIndexFile,
  openIndexFile,
  readColumns,
} from './reader.js'

/** content.parquet of this node, opened and its footer checked; null when there is none yet. */
export async function openContent(kitPath: string, peerId: string): Promise<OpenIndexFile | null> {
  try {
    return await openIndexFile(contentPath(kitPath), 'content', peerId)
  } catch (err) {
    if (err instanceof IndexMissingError) return null
    throw err
  }
}

type CidParse = (text: string) => unknown

/**
 * The rows of these columns, checked. `cids`: a parser checks every row's CID (a read of every
 * row); a set keeps only the rows whose CID is in it, CIDs the caller holds as valid (a lookup).
 */
function rowsOf(
  file: OpenIndexFile,
  columns: Record<string, unknown[]>,
  firstRow: number,
  cids: CidParse | ReadonlySet<string>,
): ContentRow[] {
  const wanted = typeof cids === 'function' ? null : cids
  const n = (columns.cid as unknown[]).length
  const out: ContentRow[] = []
  for (let i = 0; i < n; i++) {
    const rowNo = firstRow + i
    const bad = (why: string) => new IndexRejectedError(file.path, `row ${rowNo} ${why}`)
    const cid = columns.cid?.[i]
    // A lookup hands out only the rows it asked for, not their page neighbours; such a row's
    // CID is one the caller holds as valid (lookup's contract), so it is not parsed again.
    if (wanted && !(typeof cid === 'string' && wanted.has(cid))) continue
    if (typeof cid !== 'string' || cid.length > MAX_TEXT_CELL_BYTES) throw bad('has no CID')
    if (typeof cids === 'function') {
      try {
        cids(cid)
      } catch {
        throw bad(`has an invalid CID: ${JSON.stringify(cid.slice(0, 80))}`)
      }
    }
    const count = (name: string): number | null => {
      const v = columns[name]?.[i]
      if (v === null || v === undefined) return null
      const x = typeof v === 'bigint' ? Number(v) : Number.NaN
      if (!Number.isSafeInteger(x) || x < 0) throw bad(`has ${name} ${String(v)}, which no DAG has`)
      return x
    }
    const text = (name: string): string | null => {
      const v = columns[name]?.[i]
      if (v === null || v === undefined) return null
      if (typeof v !== 'string' || v.length > MAX_TEXT_CELL_BYTES) throw bad(`has a ${name} that is not text`)
      return v
    }
    const kind = text('kind')
    if (kind !== null && !(CONTENT_KINDS as readonly string[]).includes(kind))
      throw bad(`has an unknown kind ${JSON.stringify(kind.slice(0, 40))}`)
    // A lookup of the facts `pin list` shows, or of sizes, reads only their columns
    // (contentFactsOf, contentSizesOf): the others are neither read nor checked, nor handed out.
    const read = (name: string) => columns[name] !== undefined
    const codec = read('codec') ? text('codec') : '-'
    if (codec === null || codec === '') throw bad('has no codec')
    // 1 / 0 (schema version 2) or true / false (version 1); null when not known.
    const stored = columns.complete?.[i]
    const complete =
      stored === 1 || stored === true ? true : stored === 0 || stored === false ? false : stored
    if (complete !== null && complete !== undefined && typeof complete !== 'boolean')
      throw bad('has a completeness that is not true or false')
    const examined = read('examined_at') ? columns.examined_at?.[i] : new Date(0)
    if (!(examined instanceof Date) || Number.isNaN(examined.getTime()))
      throw bad('has no valid examination time')
    const mime = text('mime')
    if (mime !== null && !/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(mime))
      throw bad(`has a MIME type that is not one: ${JSON.stringify(mime.slice(0, 40))}`)
    out.push({
      cid,
      dag_size_bytes: count('dag_size_bytes'),
      blocks: count('blocks'),
      codec,
      kind: kind as ContentKind | null,
      file_size_bytes: count('file_size_bytes'),
      mime,
      complete: (complete ?? null) as boolean | null,
      examined_at: examined,
      problem: text('problem'),
    })
  }
  return out
}

/**
 * The largest examined DAGs of an opened content file, from its footer (content-writer.ts keeps
 * the first LARGEST_KEPT of them in `pin list --sort size` order: largest first, then by CID):
 * each CID checked with multiformats, entries without a size dropped. A list that is not JSON,
 * or names an invalid CID, refuses the file.
 */
export async function largestOf(
  file: OpenIndexFile,
): Promise<Array<{ cid: string; size: number; kind: ContentKind | null }>> {
  let listed: unknown
  try {
    listed = JSON.parse(file.header.kv[CONTENT_META.largest] ?? 'null')
  } catch {
    throw new IndexRejectedError(file.path, `its ${CONTENT_META.largest} is not valid JSON`)
  }
  if (!Array.isArray(listed)) return []
  const { CID } = await import('multiformats/cid')
  return listed.slice(0, LARGEST_KEPT).flatMap((e: { cid?: unknown; size?: unknown; kind?: unknown }) => {
    const size = e?.size
    if (typeof e?.cid !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      return []
    try {
      CID.parse(e.cid)
    } catch {
      throw new IndexRejectedError(file.path, 'its list of the largest pins has an invalid CID')
    }
    const kind = CONTENT_KINDS.includes(e.kind as ContentKind) ? (e.kind as ContentKind) : null
    return [{ cid: e.cid, size, kind }]
  })
}

/**
 * The rows for these CIDs (exact spellings, as pins.parquet holds them) that the file has. The
 * CIDs must be valid ones (parsed from the user, or handed out by a checked index file or by
 * Kubo): a row is handed out only when its CID equals one of them, and is not parsed again.
 */
export function contentOf(file: OpenIndexFile, cids: readonly string[]): Promise<Map<string, ContentRow>> {
  return lookup(file, cids, CONTENT_COLUMNS, (row) => row)
}

/** What `pin list` shows of a pin: its size, kind and MIME type. */
export type ContentFacts = Pick<ContentRow, 'cid' | 'dag_size_bytes' | 'kind' | 'mime'>
const FACT_COLUMNS = ['cid', 'dag_size_bytes', 'kind', 'mime'] as const

/** Like contentOf (valid CIDs only), reading and checking only the columns of ContentFacts (half the pages). */
export function contentFactsOf(
  file: OpenIndexFile,
  cids: readonly string[],
): Promise<Map<string, ContentFacts>> {
  return lookup(file, cids, FACT_COLUMNS, (r) => ({
    cid: r.cid,
    dag_size_bytes: r.dag_size_bytes,
    kind: r.kind,
    mime: r.mime,
  }))
}

/** The DAG size of each of these CIDs that was examined (null: examined, size not known), reading only the cid and size columns. */
export function contentSizesOf(
  file: OpenIndexFile,
  cids: readonly string[],
): Promise<Map<string, number | null>> {
  return lookup(file, cids, ['cid', 'dag_size_bytes'], (r) => r.dag_size_bytes)
}

async function lookup<T>(
  file: OpenIndexFile,
  cids: readonly string[],
  columnNames: readonly string[],
  pick: (row: ContentRow) => T,
): Promise<Map<string, T>> {
  const found = new Map<string, T>()
  if (cids.length === 0 || file.header.rowCount === 0) return found
  const wanted = [...new Set(cids)].sort()
  await checkCidStatistics(file, wanted)
  const set = new Set(wanted)
  for (const range of await cidRanges(file, wanted)) {
    const columns = await readColumns(file, columnNames, range.start, range.end)
    for (const row of rowsOf(file, columns, range.start, set)) found.set(row.cid, pick(row))
  }
  return found
}

/** Rows decoded at a time by allContent: a few pages of each column, not a whole group. */
const ALL_CONTENT_WINDOW = 4096

/**
 * Every row, in CID order, checked like contentOf; decoded a window of rows at a time, so that
 * a reader that yields to its event loop between rows (the manager) never waits a whole row
 * group's decoding (25,000 rows of ten columns).
 */
export async function* allContent(file: OpenIndexFile): AsyncGenerator<ContentRow> {
  const parse = await cidParser()
  await checkCidStatistics(file)
  let start = 0
  for (const group of file.metadata.row_groups) {
    const end = start + Number(group.num_rows)
    for (let from = start; from < end; from += ALL_CONTENT_WINDOW) {
      const to = Math.min(end, from + ALL_CONTENT_WINDOW)
      yield* rowsOf(file, await readColumns(file, CONTENT_COLUMNS, from, to), from, parse)
    }
    start = end
  }
}
