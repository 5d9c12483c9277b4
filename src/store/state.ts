// Program-state files (system, network, storage, files), the reading half (state-writer.ts writes
// them from typed rows against the columns of layout.ts): plain objects with numbers, not BigInts.
import { IndexRejectedError } from '../errors.js'
import { type IndexFileKind, MAX_TEXT_CELL_BYTES, NULL_REASONS_KEY, STATE_COLUMNS } from './layout.js'
import { type IndexHeader, openIndexFile, readRows, verifyCidColumns } from './reader.js'

export type StateKind = Exclude<IndexFileKind, 'pins'>
export type StateValue = string | number | boolean | Date | null
export type StateRow = Record<string, StateValue>

export interface StateSnapshot {
  header: IndexHeader
  rows: Record<string, string | number | boolean | null>[]
  nullReasons: Record<string, string>
}

/** Opens, validates (peer ID, schema, CIDs) and reads a state file whole. */
export async function readStateFile(path: string, kind: StateKind, peerId: string): Promise<StateSnapshot> {
  const file = await openIndexFile(path, kind, peerId)
  try {
    await verifyCidColumns(file, kind)
    const raw = await readRows(file)
    const types = new Map(STATE_COLUMNS[kind].map((c) => [c.name, c.type]))
    const rows = raw.map((r, rowNo) => {
      const out: Record<string, string | number | boolean | null> = {}
      for (const [name, type] of types) {
        const v = r[name]
        const bad = (why: string) => new IndexRejectedError(path, `row ${rowNo} column ${name} ${why}`)
        if (v === null || v === undefined) out[name] = null
        else if (type === 'TIMESTAMP') {
          const t = v instanceof Date ? v : new Date(Number(v))
          if (Number.isNaN(t.getTime())) throw bad('is not a valid time')
          out[name] = t.toISOString()
        } else if (type === 'INT64' || type === 'DOUBLE') {
          // Every figure in a state file is a count, size, rate, load or id: never below zero.
          const n = Number(v)
          if (!Number.isFinite(n) || n < 0) throw bad(`is ${String(v)}, which no node reports`)
          out[name] = n
        } else if (type === 'STRING') {
          if (typeof v !== 'string' || v.length > MAX_TEXT_CELL_BYTES)
            throw bad('is not text of a sane length')
          out[name] = v
        } else out[name] = v as boolean
      }
      return out
    })
    let nullReasons: Record<string, string> = {}
    try {
      nullReasons = JSON.parse(file.header.kv[NULL_REASONS_KEY] ?? '{}') as Record<string, string>
    } catch {
      throw new IndexRejectedError(path, 'its null reasons are not valid JSON')
    }
    return { header: file.header, rows, nullReasons }
  } finally {
    await file.close()
  }
}
