// Reads the day logs (layout.ts: the state history and the pin events): the parts of the days a
// time range touches, each checked like every index file, and then as a day log: its day is the
// one its folder names, and its rows are in time order within that day. A part that fails is
// refused with its reason, and the rows of the others are still given.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { IndexMissingError, IndexRejectedError } from '../errors.js'
import { DAY_LOG_COLUMNS, DAY_LOG_META, DAY_LOG_TIME_COLUMN, type DayLogKind, dayLogDir } from './layout.js'
import { type OpenIndexFile, openIndexFile } from './reader.js'
import { type JsonRow, readTypedRows } from './state.js'

const DAY_FOLDER = /^day=(\d{4}-\d{2}-\d{2})$/
const PART_FILE = /^part-(\d{4,})\.parquet$/
const DAY_MS = 86_400_000

export interface DayLogPart {
  day: string
  part: number
  path: string
}

/** The parts on disk, in time order (day, then part number); other names are not ours and are passed over. */
export async function listDayLogParts(kitPath: string, kind: DayLogKind): Promise<DayLogPart[]> {
  const dir = dayLogDir(kitPath, kind)
  let days: string[]
  try {
    days = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const parts: DayLogPart[] = []
  for (const folder of days.sort()) {
    const day = DAY_FOLDER.exec(folder)?.[1]
    if (!day || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) continue
    let files: string[]
    try {
      files = await readdir(join(dir, folder))
    } catch {
      continue
    }
    for (const name of files) {
      const part = PART_FILE.exec(name)?.[1]
      if (part !== undefined) parts.push({ day, part: Number(part), path: join(dir, folder, name) })
    }
  }
  return parts.sort((a, b) => (a.day === b.day ? a.part - b.part : a.day < b.day ? -1 : 1))
}

export interface DayLogRead {
  rows: JsonRow[]
  /** The parts that were refused, with why. */
  refused: Array<{ path: string; reason: string }>
  /** How many parts were read. */
  parts: number
}

/** Reads and checks one part; throws IndexRejectedError with the reason. */
export async function readDayLogPart(part: DayLogPart, kind: DayLogKind, peerId: string): Promise<JsonRow[]> {
  const file = await openIndexFile(part.path, kind, peerId)
  try {
    return await checkDayLogPart(file, part, kind)
  } finally {
    await file.close()
  }
}

/** The rows of an opened part, checked as a day log (its day, its rows' times and order). */
export async function checkDayLogPart(
  file: OpenIndexFile,
  part: DayLogPart,
  kind: DayLogKind,
): Promise<JsonRow[]> {
  {
    if (file.header.kv[DAY_LOG_META.day] !== part.day)
      throw new IndexRejectedError(
        part.path,
        `it says it holds day ${JSON.stringify(file.header.kv[DAY_LOG_META.day] ?? null)}, but lies in the folder of ${part.day}`,
      )
    const rows = await readTypedRows(file, DAY_LOG_COLUMNS[kind])
    const timeColumn = DAY_LOG_TIME_COLUMN[kind]
    const dayStart = Date.parse(`${part.day}T00:00:00Z`)
    let previous = dayStart
    for (const [i, row] of rows.entries()) {
      const t = typeof row[timeColumn] === 'string' ? Date.parse(row[timeColumn] as string) : Number.NaN
      if (!(t >= dayStart && t < dayStart + DAY_MS))
        throw new IndexRejectedError(
          part.path,
          `row ${i} is not of the day ${part.day} (${timeColumn} ${String(row[timeColumn])})`,
        )
      if (t < previous) throw new IndexRejectedError(part.path, `row ${i} is out of time order`)
      previous = t
    }
    return rows
  }
}

/** The rows of a day log whose time lies in [since, until), in time order. */
export async function readDayLog(
  kitPath: string,
  kind: DayLogKind,
  peerId: string,
  range: { since?: Date; until?: Date } = {},
): Promise<DayLogRead> {
  const since = range.since?.getTime() ?? Number.NEGATIVE_INFINITY
  const until = range.until?.getTime() ?? Number.POSITIVE_INFINITY
  const timeColumn = DAY_LOG_TIME_COLUMN[kind]
  const out: DayLogRead = { rows: [], refused: [], parts: 0 }
  for (const part of await listDayLogParts(kitPath, kind)) {
    const dayStart = Date.parse(`${part.day}T00:00:00Z`)
    if (dayStart + DAY_MS <= since || dayStart >= until) continue
    try {
      const rows = await readDayLogPart(part, kind, peerId)
      out.parts++
      for (const row of rows) {
        const t = Date.parse(row[timeColumn] as string)
        if (t >= since && t < until) out.rows.push(row)
      }
    } catch (err) {
      // Removed between the listing and the read: pruned, not refused.
      if (err instanceof IndexMissingError) continue
      if (!(err instanceof IndexRejectedError)) throw err
      out.refused.push({ path: part.path, reason: err.reason })
    }
  }
  // Parts of one day follow each other in time; a stable sort keeps the order of equal times.
  out.rows.sort((a, b) => Date.parse(a[timeColumn] as string) - Date.parse(b[timeColumn] as string))
  return out
}
