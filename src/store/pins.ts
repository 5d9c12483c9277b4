// Queries over pins.parquet for `pin list`: rows come out in CID order, a CID lookup reads only
// the row groups whose min/max statistics can hold it, a limit stops reading early, and every
// CID is checked with multiformats before it is handed out (a bad one rejects the file).
import { IndexRejectedError } from '../errors.js'
import { MAX_TEXT_CELL_BYTES } from './layout.js'
import { checkCidStatistics, type OpenIndexFile, readColumn, readRows } from './reader.js'

export type PinType = 'recursive' | 'direct'

export interface PinRow {
  cid: string
  type: PinType
  name: string | null
}

export interface PinQuery {
  type?: PinType
  /** One CID, in any of its spellings (a dag-pb CID as v0 and as v1): rows equal to one of them match. */
  cids?: string[]
  /** Substring of the name (or the whole name with nameExact). */
  name?: string
  nameExact?: boolean
}

type CidParser = (text: string) => unknown

let parseCid: CidParser | undefined
async function cidParser(): Promise<CidParser> {
  if (!parseCid) {
    const { CID } = await import('multiformats/cid')
    parseCid = (text) => CID.parse(text)
  }
  return parseCid
}

export function matchesPin(row: PinRow, q: PinQuery, cidSet?: ReadonlySet<string>): boolean {
  if (q.type && row.type !== q.type) return false
  if (q.cids && !(cidSet ? cidSet.has(row.cid) : q.cids.includes(row.cid))) return false
  if (q.name !== undefined) {
    if (row.name === null) return false
    if (q.nameExact ? row.name !== q.name : !row.name.includes(q.name)) return false
  }
  return true
}

/** The row groups that may hold rows of this query, with their first row number. */
function candidateGroups(file: OpenIndexFile, q: PinQuery): Array<{ start: number; end: number }> {
  const cidColumn = file.metadata.schema.slice(1).findIndex((s) => s.name === 'cid')
  const groups: Array<{ start: number; end: number }> = []
  let start = 0
  for (const group of file.metadata.row_groups) {
    const rows = Number(group.num_rows)
    const end = start + rows
    let keep = rows > 0
    if (keep && q.cids !== undefined) {
      const stats = group.columns[cidColumn]?.meta_data?.statistics
      const min = stats?.min_value
      const max = stats?.max_value
      // Without statistics the group must be read; with them, skip groups that cannot hold it.
      if (typeof min === 'string' && typeof max === 'string') keep = q.cids.some((c) => c >= min && c <= max)
    }
    if (keep) groups.push({ start, end })
    start = end
  }
  return groups
}

/**
 * Yields the pins of an opened, validated pins file that match the query, in CID order. Throws
 * IndexRejectedError (before yielding it) when a row about to be yielded has an invalid CID or type.
 */
export async function* queryPinFile(
  file: OpenIndexFile,
  q: PinQuery,
  options: { limit?: number } = {},
): AsyncGenerator<PinRow> {
  const parse = await cidParser()
  // A lookup skips row groups by their cid bounds (and could answer "not pinned" from them
  // alone), so it checks them all first; other queries read the groups they need and check
  // each CID they hand out.
  if (q.cids !== undefined) await checkCidStatistics(file)
  const cidSet = q.cids && q.cids.length > 4 ? new Set(q.cids) : undefined
  // Without filters every row matches: read no more rows than the limit asks for.
  const unfiltered = q.type === undefined && q.cids === undefined && q.name === undefined
  let budget = unfiltered && options.limit ? options.limit : Number.POSITIVE_INFINITY
  const singleFilter = [q.cids, q.name, q.type].filter((f) => f !== undefined).length === 1
  let matchBudget = options.limit ? options.limit + 1 : Number.POSITIVE_INFINITY
  for (const group of candidateGroups(file, q)) {
    if (budget <= 0) return
    let rowStart = group.start
    let rowEnd = Math.min(group.end, group.start + budget)
    budget -= rowEnd - rowStart
    // A filter reads its own column first, and the other columns only for the span of rows
    // that match: a lookup decodes one column of the group and one row of the others; few pins
    // have a name, so a group's name column is small; the type column is a dictionary of two.
    let groupLastCid: unknown
    const column =
      q.cids !== undefined ? 'cid' : q.name !== undefined ? 'name' : q.type !== undefined ? 'type' : null
    if (column !== null) {
      const values = await readColumn(file, column, group.start, group.end)
      const hit =
        column === 'cid'
          ? (v: unknown) =>
              typeof v === 'string' && (cidSet ? cidSet.has(v) : (q.cids as string[]).includes(v))
          : column === 'name'
            ? (v: unknown) =>
                typeof v === 'string' && (q.nameExact ? v === q.name : v.includes(q.name as string))
            : (v: unknown) => v === q.type
      if (column === 'cid') groupLastCid = values.at(-1)
      const first = values.findIndex(hit)
      if (first < 0) {
        const lastCid = groupLastCid
        if (typeof lastCid === 'string' && q.cids?.every((c) => lastCid > c)) return
        continue
      }
      // With this column the only filter, every hit is a match: stop the span at the last one
      // the limit can use (one more than it, so that the caller knows more match).
      let last = first
      let hits = 0
      for (let i = first; i < values.length; i++) {
        if (!hit(values[i])) continue
        last = i
        if (singleFilter && ++hits >= matchBudget) break
      }
      rowStart = group.start + first
      rowEnd = group.start + last + 1
    }
    const rows = await readRows(file, { columns: ['cid', 'type', 'name'], rowStart, rowEnd })
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as { cid: unknown; type: unknown; name: unknown }
      const rowNo = rowStart + i
      if (typeof r.cid !== 'string') throw new IndexRejectedError(file.path, `row ${rowNo} has no CID`)
      if (r.type !== 'recursive' && r.type !== 'direct') {
        throw new IndexRejectedError(
          file.path,
          `row ${rowNo} has an unknown pin type ${JSON.stringify(r.type)}`,
        )
      }
      if (r.name !== null && r.name !== undefined && typeof r.name !== 'string') {
        throw new IndexRejectedError(file.path, `row ${rowNo} has a name that is not text`)
      }
      if (
        r.cid.length > MAX_TEXT_CELL_BYTES ||
        (typeof r.name === 'string' && r.name.length > MAX_TEXT_CELL_BYTES)
      ) {
        throw new IndexRejectedError(
          file.path,
          `row ${rowNo} has a value longer than ${MAX_TEXT_CELL_BYTES} bytes`,
        )
      }
      const row: PinRow = { cid: r.cid, type: r.type, name: typeof r.name === 'string' ? r.name : null }
      if (!matchesPin(row, q, cidSet)) continue
      try {
        parse(row.cid)
      } catch {
        throw new IndexRejectedError(
          file.path,
          `row ${rowNo} has an invalid CID: ${JSON.stringify(row.cid.slice(0, 80))}`,
        )
      }
      matchBudget--
      yield row
    }
    if (singleFilter && matchBudget <= 0) return
    // Rows are sorted by CID: once past the CID asked for, no later group can hold it.
    const last =
      groupLastCid ?? (rows.length > 0 ? (rows[rows.length - 1] as { cid: unknown }).cid : undefined)
    if (q.cids !== undefined && typeof last === 'string' && q.cids.every((c) => last > c)) return
  }
}
