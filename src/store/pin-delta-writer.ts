// Writes pins_delta.parquet (the manager only; pin-delta.ts reads it and says what it means).
import { pinsDeltaPath, SCHEMA_VERSIONS } from './layout.js'
import type { DeltaEntry } from './pin-delta.js'
import { columnsSource, type IndexFileHeader, writeIndexFileAtomic } from './writer.js'

export async function writePinDelta(
  kitPath: string,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  entries: readonly DeltaEntry[],
): Promise<void> {
  await writeIndexFileAtomic(
    pinsDeltaPath(kitPath),
    { ...header, kind: 'pins_delta', schemaVersion: SCHEMA_VERSIONS.pins_delta },
    columnsSource(
      [
        { name: 'seq', data: entries.map((e) => BigInt(e.seq)), type: 'INT64' },
        { name: 'op', data: entries.map((e) => e.op), type: 'STRING' },
        { name: 'cid', data: entries.map((e) => e.cid), type: 'STRING' },
        { name: 'type', data: entries.map((e) => e.type), type: 'STRING', nullable: true },
        { name: 'name', data: entries.map((e) => e.name), type: 'STRING', nullable: true },
        { name: 'recorded_at', data: entries.map((e) => e.recorded_at), type: 'TIMESTAMP' },
      ],
      entries.length,
    ),
  )
}
