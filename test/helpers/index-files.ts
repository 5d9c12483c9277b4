// Pins files written the way the manager writes them (same writer, checksums and all), with
// whatever a test needs to be wrong in them: another peer, fake CIDs, a foreign writer, a
// lying row count. The reader must then refuse them for what they claim, not for how they were
// made.
import { PINS_SCHEMA_VERSION } from '../../src/indexer/pins.js'
import { META, PINS_META } from '../../src/store/layout.js'
import { columnsSource, writeIndexFileAtomic } from '../../src/store/writer.js'

export interface FakePinsOptions {
  peerId: string
  cids: string[]
  types?: string[]
  names?: Array<string | null>
  schemaVersion?: number
  writer?: string
  rowCountClaim?: number
  generatedAt?: Date
  extra?: Record<string, string>
}

export async function writePinsFile(path: string, o: FakePinsOptions): Promise<number> {
  const now = o.generatedAt ?? new Date()
  return writeIndexFileAtomic(
    path,
    {
      kind: 'pins',
      schemaVersion: o.schemaVersion ?? PINS_SCHEMA_VERSION,
      writer: o.writer ?? 'ipfs-kit 0.1.0',
      peerId: o.peerId,
      kuboVersion: '0.43.1',
      generatedAt: now,
      // A claimed row count other than the real one overrides the written one (later keys win).
      extra: {
        [PINS_META.deltaSeq]: '0',
        ...o.extra,
        ...(o.rowCountClaim !== undefined ? { [META.rowCount]: String(o.rowCountClaim) } : {}),
      },
    },
    columnsSource(
      [
        { name: 'cid', data: o.cids, type: 'STRING' },
        { name: 'type', data: o.types ?? o.cids.map(() => 'recursive'), type: 'STRING' },
        { name: 'name', data: o.names ?? o.cids.map(() => null), type: 'STRING', nullable: true },
      ],
      o.cids.length,
    ),
  )
}
