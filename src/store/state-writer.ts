// Writes the program-state files and the day-log parts (the manager only; state.ts reads them).
import type { ColumnSource } from 'hyparquet-writer'
import {
  type FileKind,
  NULL_REASONS_KEY,
  SCHEMA_VERSIONS,
  STATE_COLUMNS,
  type StateColumnType,
} from './layout.js'
import type { StateKind, StateRow } from './state.js'
import { columnsSource, type IndexFileHeader, writeIndexFileAtomic } from './writer.js'

/** Writes typed rows against a column table; `nullReasons` says why each null column is null. */
export async function writeTypedFile(
  path: string,
  kind: FileKind,
  columnTypes: ReadonlyArray<{ name: string; type: StateColumnType }>,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  rows: readonly StateRow[],
  nullReasons: Record<string, string>,
  extraMeta: Record<string, string> = {},
): Promise<number> {
  const columns: ColumnSource[] = columnTypes.map((col) => {
    const data = rows.map((r) => {
      const v = r[col.name] ?? null
      if (v === null) return null
      if (col.type === 'INT64') return BigInt(Math.round(Number(v)))
      if (col.type === 'TIMESTAMP') return v instanceof Date ? v : new Date(String(v))
      return v
    })
    return { name: col.name, data, type: col.type, nullable: true }
  })
  return writeIndexFileAtomic(
    path,
    {
      ...header,
      kind,
      schemaVersion: SCHEMA_VERSIONS[kind],
      extra: { ...header.extra, ...extraMeta, [NULL_REASONS_KEY]: JSON.stringify(nullReasons) },
    },
    columnsSource(columns, rows.length),
  )
}

/** Writes a state file; `nullReasons` says why each null column is null. */
export async function writeStateFile(
  path: string,
  kind: StateKind,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  rows: StateRow[],
  nullReasons: Record<string, string>,
  extraMeta: Record<string, string> = {},
): Promise<void> {
  await writeTypedFile(path, kind, STATE_COLUMNS[kind], header, rows, nullReasons, extraMeta)
}
