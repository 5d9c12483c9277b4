// Queries over pins.parquet for `pin list`: rows come out in CID order, a CID lookup reads only
// the row groups whose min/max statistics can hold it, and in them only the pages whose page
// index can, a limit stops reading early, and every CID is checked with multiformats before it
// is handed out (a bad one rejects the file).
import { IndexRejectedError } from '../errors.js'
import { verifyAllGroups } from './integrity.js'
import { MAX_TEXT_CELL_BYTES, PINS_META, type PinSubsetKind, pinSubsetPath } from './layout.js'
import { PIN_COLUMNS, type PinColumn } from './pins-format.js'
import {
  checkCidStatistics,
  cidPageSpans,
  cidParser,
  type OpenIndexFile,
  openIndexFile,
  type RowRange,
  readColumn,
  readColumns,
} from './reader.js'

export type PinType = 'recursive' | 'direct'

export interface PinRow {
  cid: string
  type: PinType
  name: string | null
  /**
   * When ipfs-kit first saw this pin (ISO time): when a change through ipfs-kit was confirmed by
   * Kubo, or the index cycle that found it. Null when answered from Kubo, which keeps no times.
   */
  first_seen: string | null
  /** False for a pin already there when the node was first indexed: first_seen is that index, the pin is older. */
  first_seen_exact: boolean | null
}

export interface PinQuery {
  type?: PinType
  /** One CID, in any of its spellings (a dag-pb CID as v0 and as v1): rows equal to one of them match. */
  cids?: string[]
  /** Substring of the name (or the whole name with nameExact). */
  name?: string
  nameExact?: boolean
}

export function matchesPin(row: PinRow, q: PinQuery, cidSet?: ReadonlySet<string>): boolean {
  return (
    passes('type', row.type, q, cidSet) &&
    passes('cid', row.cid, q, cidSet) &&
    passes('name', row.name, q, cidSet)
  )
}

/**
 * Whether one value of a column passes the query's filter on that column (a value as decoded
 * from the file, unchecked: a name of '' or null is no name).
 */
function passes(column: PinColumn, v: unknown, q: PinQuery, cidSet?: ReadonlySet<string>): boolean {
  if (column === 'type') return q.type === undefined || v === q.type
  if (column === 'cid')
    return q.cids === undefined || (typeof v === 'string' && (cidSet ? cidSet.has(v) : q.cids.includes(v)))
  if (q.name === undefined) return true
  return typeof v === 'string' && v !== '' && (q.nameExact ? v === q.name : v.includes(q.name))
}

/** Hits of a filter closer than this many rows are read as one span (about a page of CIDs). */
const SPAN_GAP = 256
/** Rows of a filter's own column decoded at a time (a page of the type column's dictionary indexes). */
const FILTER_WINDOW = 4096

/**
 * Where the CIDs asked for (sorted, distinct) are among `values`, the `cid` column of rows from
 * `from` on, walking both in order (a comparison or two a row, where a set would hash every CID
 * decoded). The walk relies on the rows being sorted by CID, so it checks that they are.
 */
function cidsIn(file: OpenIndexFile, values: unknown[], from: number, sorted: readonly string[]): number[] {
  const found: number[] = []
  let k = 0
  let previous = ''
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v !== 'string') continue
    if (v < previous) throw new IndexRejectedError(file.path, `row ${from + i} is not in CID order`)
    previous = v
    while (k < sorted.length && (sorted[k] as string) < v) k++
    if (k === sorted.length) break
    if (sorted[k] === v) found.push(i)
  }
  return found
}

/** The row groups that may hold rows of this query, with their row numbers. */
function candidateGroups(file: OpenIndexFile, q: PinQuery): Array<RowRange & { group: number }> {
  const columns = file.metadata.schema.slice(1)
  const cidColumn = columns.findIndex((s) => s.name === 'cid')
  const typeColumn = columns.findIndex((s) => s.name === 'type')
  const groups: Array<RowRange & { group: number }> = []
  let start = 0
  for (const [i, group] of file.metadata.row_groups.entries()) {
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
    if (keep && q.type !== undefined) {
      // A group whose types are all the other type holds no match (a wrong bound only costs a read:
      // the rows read are checked one by one).
      const stats = group.columns[typeColumn]?.meta_data?.statistics
      const min = stats?.min_value
      const max = stats?.max_value
      if (typeof min === 'string' && min === max && min !== q.type) keep = false
    }
    if (keep) groups.push({ start, end, group: i })
    start = end
  }
  return groups
}

/** A row's CID, refused with its row number when it is not a valid CID. */
function checkCid(file: OpenIndexFile, parse: (text: string) => unknown, rowNo: number, cid: string): void {
  try {
    parse(cid)
  } catch {
    throw new IndexRejectedError(
      file.path,
      `row ${rowNo} has an invalid CID: ${JSON.stringify(cid.slice(0, 80))}`,
    )
  }
}

/** A row's first_seen and its exactness, refused with its row number when either is not valid. */
function checkedTime(file: OpenIndexFile, rowNo: number, seen: unknown, exact: unknown): PinTime {
  // 0 or 1 (schema version 6), or a boolean (version 5).
  const isExact = exact === 1 || exact === true
  if (!(seen instanceof Date) || Number.isNaN(seen.getTime()) || !(isExact || exact === 0 || exact === false))
    throw new IndexRejectedError(file.path, `row ${rowNo} has no valid first_seen`)
  return { first_seen: seen.toISOString(), first_seen_exact: isExact }
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
  // alone), so it first checks the bounds its answer rests on; other queries read the groups
  // they need and check each CID they hand out.
  if (q.cids !== undefined) await checkCidStatistics(file, q.cids)
  const cidSet = q.cids && q.cids.length > 4 ? new Set(q.cids) : undefined
  const sortedCids = q.cids ? [...new Set(q.cids)].sort() : undefined
  // Without filters every row matches: read no more rows than the limit asks for.
  const unfiltered = q.type === undefined && q.cids === undefined && q.name === undefined
  let budget = unfiltered && options.limit ? options.limit : Number.POSITIVE_INFINITY
  // A full listing reads every column chunk: it checks the page indexes too, so that it refuses
  // every file `doctor` refuses.
  if (unfiltered && !options.limit) await file.buffer.verifyPageIndexes()
  const singleFilter = [q.cids, q.name, q.type].filter((f) => f !== undefined).length === 1
  let matchBudget = options.limit ? options.limit + 1 : Number.POSITIVE_INFINITY
  /** The filter column's values read so far in the current range. */
  const windows: Array<{ from: number; values: unknown[] }> = []
  const ranges: RowRange[] = []
  for (const group of candidateGroups(file, q)) {
    if (q.cids !== undefined) ranges.push(...(await cidPageSpans(file, group, q.cids)))
    else ranges.push(group)
  }
  for (const range of ranges) {
    if (budget <= 0) return
    const rangeEnd = Math.min(range.end, range.start + budget)
    budget -= rangeEnd - range.start
    // A filter reads its own column first, and the other columns only for the rows that match,
    // a page or so around each (hits far apart are read apart: a few named pins in a group of
    // thousands must not decode the CIDs of all the rows between them).
    let spans: RowRange[] = [{ start: range.start, end: rangeEnd }]
    let rangeLastCid: unknown
    const column =
      q.cids !== undefined ? 'cid' : q.name !== undefined ? 'name' : q.type !== undefined ? 'type' : null
    if (column !== null) {
      const hit = (v: unknown) => passes(column, v, q, cidSet)
      spans = []
      let hits = 0
      windows.length = 0
      // A window at a time: with a limit, the first hits are often in the first pages.
      scan: for (let from = range.start; from < range.end; from += FILTER_WINDOW) {
        const to = Math.min(range.end, from + FILTER_WINDOW)
        const values = await readColumn(file, column, from, to)
        windows.push({ from, values })
        if (column === 'cid') rangeLastCid = values.at(-1)
        let found: number[]
        if (column === 'cid' && sortedCids) found = cidsIn(file, values, from, sortedCids)
        else {
          found = []
          for (let i = 0; i < values.length; i++) if (hit(values[i])) found.push(i)
        }
        for (const i of found) {
          const at = from + i
          const previous = spans.at(-1)
          if (previous && at - previous.end < SPAN_GAP) previous.end = at + 1
          else spans.push({ start: at, end: at + 1 })
          // With this column the only filter, every hit is a match: stop at the last one the
          // limit can use (one more than it, so that the caller knows more match).
          if (singleFilter && ++hits >= matchBudget) break scan
        }
      }
    }
    let lastCid: unknown = rangeLastCid
    for (const span of spans) {
      // Arrays, not an object per row: a span of a filter holds rows that do not match. The
      // filter's own column is not decoded twice.
      const known = windows.find((w) => span.start >= w.from && span.end <= w.from + w.values.length)
      const wanted = PIN_COLUMNS.filter((c) => !(known && c === column))
      const columns = await readColumns(file, wanted, span.start, span.end)
      if (known && column)
        columns[column] = known.values.slice(span.start - known.from, span.end - known.from)
      const cids = columns.cid as unknown[]
      const types = columns.type as unknown[]
      const names = columns.name as unknown[]
      const seen = columns.first_seen as unknown[]
      const exact = columns.first_seen_exact as unknown[]
      for (let i = 0; i < span.end - span.start; i++) {
        const r = { cid: cids[i], type: types[i], name: names[i] }
        const rowNo = span.start + i
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
        if (rangeLastCid === undefined) lastCid = r.cid
        if (
          !passes('type', r.type, q, cidSet) ||
          !passes('cid', r.cid, q, cidSet) ||
          !passes('name', r.name, q, cidSet)
        )
          continue
        const name = typeof r.name === 'string' && r.name !== '' ? r.name : null
        const row: PinRow = { cid: r.cid, type: r.type, name, ...checkedTime(file, rowNo, seen[i], exact[i]) }
        checkCid(file, parse, rowNo, row.cid)
        matchBudget--
        yield row
      }
      if (singleFilter && matchBudget <= 0) return
    }
    // Rows are sorted by CID: once past the CID asked for, no later range can hold it.
    const last = lastCid
    if (q.cids !== undefined && typeof last === 'string' && q.cids.every((c) => last > c)) return
  }
}

/**
 * A subset file (the named, the direct or the recent pins) when it holds that subset of this very
 * pins.parquet (same pinset); otherwise null, and the query reads pins.parquet: a missing,
 * damaged or foreign file, or one from the cycle before or after, costs time, never a wrong
 * answer.
 */
export async function openPinSubset(
  kitPath: string,
  base: OpenIndexFile,
  kind: PinSubsetKind,
): Promise<OpenIndexFile | null> {
  let subset: OpenIndexFile
  try {
    subset = await openIndexFile(pinSubsetPath(kitPath, kind), kind, base.header.peerId)
  } catch (err) {
    if (err instanceof IndexRejectedError) return null
    throw err
  }
  const pinset = base.header.kv[PINS_META.pinsetSha256]
  if (pinset !== undefined && subset.header.kv[PINS_META.pinsetSha256] === pinset) return subset
  await subset.close()
  return null
}

/**
 * pins_recent.parquet of this pins.parquet when it answers for the pins first seen exactly (after
 * the baseline) at or after `since` (ms): it holds every such pin since its window's start
 * (PINS_META.recentFrom), and `since` is no earlier. Otherwise null (the caller reads the events
 * or every pin); a window start that is not a time is a file that cannot be used, like one of
 * another pinset.
 */
export async function openRecentPins(
  kitPath: string,
  base: OpenIndexFile,
  since: number,
): Promise<OpenIndexFile | null> {
  const subset = await openPinSubset(kitPath, base, 'pins_recent')
  if (!subset) return null
  const from = Date.parse(subset.header.kv[PINS_META.recentFrom] ?? '')
  try {
    // Checked whole before use (it is small): damaged, the caller asks the pin events instead of
    // failing half-way (the next cycle rewrites it).
    if (!Number.isNaN(from) && from <= since) {
      await verifyAllGroups(subset.buffer, subset.metadata)
      return subset
    }
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
  }
  await subset.close()
  return null
}

/** When a pin was first seen, as pins.parquet says it. */
export interface PinTime {
  first_seen: string
  first_seen_exact: boolean
}

/**
 * When each of these CIDs was first seen, for those pinned (the others are left out): what
 * queryPinFile gives for a CID lookup, reading only the cid and first_seen columns (half the pages
 * of a lookup, for `storage report`'s pins of the last day). Checked as queryPinFile checks them:
 * the cid bounds first, each row found for a valid CID, and the time of each.
 */
export async function pinTimesOf(
  file: OpenIndexFile,
  cids: readonly string[],
): Promise<Map<string, PinTime>> {
  const found = new Map<string, PinTime>()
  if (cids.length === 0) return found
  const parse = await cidParser()
  const sorted = [...new Set(cids)].sort()
  await checkCidStatistics(file, sorted)
  for (const group of candidateGroups(file, { cids: sorted })) {
    for (const range of await cidPageSpans(file, group, sorted)) {
      const values = await readColumn(file, 'cid', range.start, range.end)
      for (const i of cidsIn(file, values, range.start, sorted)) {
        const rowNo = range.start + i
        const cid = values[i] as string
        checkCid(file, parse, rowNo, cid)
        const columns = await readColumns(file, ['first_seen', 'first_seen_exact'], rowNo, rowNo + 1)
        found.set(cid, checkedTime(file, rowNo, columns.first_seen?.[0], columns.first_seen_exact?.[0]))
      }
    }
  }
  return found
}
