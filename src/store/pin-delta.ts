// pins_delta.parquet: the pin changes made through ipfs-kit since pins.parquet was written, so
// that `pin list` shows a `pin add` at once instead of after a million-row rewrite. Each entry
// is what Kubo answered for that CID right after the change (the manager asks it), numbered in
// order. pins.parquet records the highest number its pinset already holds (delta_seq); a reader
// applies only the entries above it, so a delta older than the file it is read with is harmless.
import { IndexRejectedError } from '../errors.js'
import { pinsDeltaPath } from './layout.js'
import type { PinRow, PinType } from './pins.js'
import { openIndexFile, readRows, verifyCidColumns } from './reader.js'
import { columnsSource, type IndexFileHeader, writeIndexFileAtomic } from './writer.js'

export const PINS_DELTA_SCHEMA_VERSION = 1

export interface DeltaEntry {
  seq: number
  /** 'add': Kubo holds this pin (with this type and name); 'rm': Kubo holds no pin of this CID. */
  op: 'add' | 'rm'
  cid: string
  type: PinType | null
  name: string | null
  recorded_at: Date
}

export async function writePinDelta(
  kitPath: string,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  entries: readonly DeltaEntry[],
): Promise<void> {
  await writeIndexFileAtomic(
    pinsDeltaPath(kitPath),
    { ...header, kind: 'pins_delta', schemaVersion: PINS_DELTA_SCHEMA_VERSION },
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

/**
 * The entries of pins_delta.parquet, checked like any index file (ipfs-kit's, this node's,
 * checksums, valid CIDs) and for sense (ascending numbers, an add has a type, an rm none).
 * Null when there is no delta; IndexRejectedError when there is one that cannot be trusted.
 */
export async function readPinDelta(kitPath: string, peerId: string): Promise<DeltaEntry[] | null> {
  const path = pinsDeltaPath(kitPath)
  let file: Awaited<ReturnType<typeof openIndexFile>>
  try {
    file = await openIndexFile(path, 'pins_delta', peerId)
  } catch (err) {
    if (err instanceof IndexRejectedError && err.reason === 'it does not exist') return null
    throw err
  }
  try {
    await verifyCidColumns(file, 'pins_delta')
    const rows = await readRows(file)
    const entries: DeltaEntry[] = []
    let previous = 0
    for (const [i, r] of rows.entries()) {
      const bad = (why: string) => new IndexRejectedError(path, `entry ${i} ${why}`)
      const seq = typeof r.seq === 'bigint' ? Number(r.seq) : Number.NaN
      if (!Number.isSafeInteger(seq) || seq <= previous) throw bad('is not numbered in ascending order')
      previous = seq
      if (r.op !== 'add' && r.op !== 'rm') throw bad(`has an unknown change ${JSON.stringify(r.op)}`)
      const type = r.type ?? null
      if (r.op === 'add' ? type !== 'recursive' && type !== 'direct' : type !== null)
        throw bad(`has a pin type that does not fit the change: ${JSON.stringify(type)}`)
      const name = r.name ?? null
      if (name !== null && typeof name !== 'string') throw bad('has a name that is not text')
      if (!(r.recorded_at instanceof Date) || Number.isNaN(r.recorded_at.getTime()))
        throw bad('has no valid time')
      entries.push({
        seq,
        op: r.op,
        cid: r.cid as string,
        type: type as PinType | null,
        name,
        recorded_at: r.recorded_at,
      })
    }
    return entries
  } finally {
    await file.close()
  }
}

/** The changes a pins file with this delta_seq does not hold yet: the latest entry per CID. */
export function pendingChanges(entries: readonly DeltaEntry[], baseSeq: number): Map<string, DeltaEntry> {
  const pending = new Map<string, DeltaEntry>()
  for (const e of entries) if (e.seq > baseSeq) pending.set(e.cid, e)
  return pending
}

/** The pin a pending change says the node holds now, or null for a removal. */
export function pinOf(e: DeltaEntry): PinRow | null {
  return e.op === 'add' && e.type !== null ? { cid: e.cid, type: e.type, name: e.name } : null
}
