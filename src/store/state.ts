// Program-state files (system, network, storage, files) and the day logs' rows, the reading half
// (state-writer.ts writes them from typed rows against the columns of layout.ts): plain objects
// with numbers, not BigInts, and times as ISO text.
import { IndexRejectedError } from '../errors.js'
import {
  type IndexFileKind,
  MAX_TEXT_CELL_BYTES,
  NULL_REASONS_KEY,
  STATE_COLUMNS,
  type StateColumnType,
} from './layout.js'
import { type IndexHeader, type OpenIndexFile, openIndexFile, readRows, verifyCidColumns } from './reader.js'

export type StateKind = Exclude<IndexFileKind, 'pins'>
export type StateValue = string | number | boolean | Date | null
export type StateRow = Record<string, StateValue>
export type JsonRow = Record<string, string | number | boolean | null>

export interface StateSnapshot {
  header: IndexHeader
  rows: JsonRow[]
  nullReasons: Record<string, string>
}

/**
 * Every row of an opened file, after its CIDs and checksums were checked, each value checked
 * against its column's type: every figure ipfs-kit stores is a count, size, rate, load or id,
 * never below zero; text is of a sane length; a time is a valid time (as ISO text).
 */
export async function readTypedRows(
  file: OpenIndexFile,
  columns: ReadonlyArray<{ name: string; type: StateColumnType }>,
): Promise<JsonRow[]> {
  await verifyCidColumns(file, file.header.kind)
  const raw = await readRows(file)
  return raw.map((r, rowNo) => {
    const out: JsonRow = {}
    for (const { name, type } of columns) {
      const v = r[name]
      const bad = (why: string) => new IndexRejectedError(file.path, `row ${rowNo} column ${name} ${why}`)
      if (v === null || v === undefined) out[name] = null
      else if (type === 'TIMESTAMP') {
        const t = v instanceof Date ? v : new Date(Number(v))
        if (Number.isNaN(t.getTime())) throw bad('is not a valid time')
        out[name] = t.toISOString()
      } else if (type === 'INT64' || type === 'DOUBLE') {
        const n = Number(v)
        if (!Number.isFinite(n) || n < 0) throw bad(`is ${String(v)}, which no node reports`)
        out[name] = n
      } else if (type === 'STRING') {
        if (typeof v !== 'string' || v.length > MAX_TEXT_CELL_BYTES) throw bad('is not text of a sane length')
        out[name] = v
      } else if (typeof v !== 'boolean') throw bad('is not true or false')
      else out[name] = v
    }
    return out
  })
}

/** The reasons for the nulls of a file (its NULL_REASONS_KEY metadata). */
export function nullReasonsOf(file: OpenIndexFile): Record<string, string> {
  try {
    const parsed = JSON.parse(file.header.kv[NULL_REASONS_KEY] ?? '{}') as unknown
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object')
    return parsed as Record<string, string>
  } catch {
    throw new IndexRejectedError(file.path, 'its null reasons are not valid JSON')
  }
}

/** Opens, validates (peer ID, schema, CIDs) and reads a state file whole. */
export async function readStateFile(path: string, kind: StateKind, peerId: string): Promise<StateSnapshot> {
  const file = await openIndexFile(path, kind, peerId)
  try {
    const rows = await readTypedRows(file, STATE_COLUMNS[kind])
    return { header: file.header, rows, nullReasons: nullReasonsOf(file) }
  } finally {
    await file.close()
  }
}
