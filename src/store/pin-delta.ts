// pins_delta.parquet (the reading half; pin-delta-writer.ts writes it): the pin changes made through ipfs-kit since pins.parquet was written, so
// that `pin list` shows a `pin add` at once instead of after a million-row rewrite. Each entry
// is what Kubo answered for that CID right after the change (the manager asks it), numbered in
// order. pins.parquet records the highest number its pinset already holds (delta_seq); a reader
// applies only the entries above it, so a delta older than the file it is read with is harmless.
import { IndexMissingError, IndexRejectedError } from '../errors.js'
import { PINS_META, pinsDeltaPath } from './layout.js'
import { type PinRow, type PinType, queryPinFile } from './pins.js'
import { type OpenIndexFile, openIndexFile, readRows, verifyCidColumns } from './reader.js'

export interface DeltaEntry {
  seq: number
  /** 'add': Kubo holds this pin (with this type and name); 'rm': Kubo holds no pin of this CID. */
  op: 'add' | 'rm'
  cid: string
  type: PinType | null
  name: string | null
  recorded_at: Date
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
    if (err instanceof IndexMissingError) return null
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

/**
 * The pin a pending change says the node holds now, or null for a removal. First seen when the
 * change was recorded, unless the index holds the same pin from before (`before`, of pins.parquet).
 */
export function pinOf(e: DeltaEntry, before?: PinRow): PinRow | null {
  if (e.op !== 'add' || e.type === null) return null
  const kept = before && before.type === e.type
  return {
    cid: e.cid,
    type: e.type,
    name: e.name,
    first_seen: kept ? before.first_seen : e.recorded_at.toISOString(),
    first_seen_exact: kept ? before.first_seen_exact : true,
  }
}

/**
 * The changes of the delta that this opened pins.parquet does not hold yet (see pendingChanges);
 * IndexRejectedError when the file's delta_seq is not a number.
 */
export function pendingOf(file: OpenIndexFile, delta: readonly DeltaEntry[] | null): Map<string, DeltaEntry> {
  const baseSeqText = file.header.kv[PINS_META.deltaSeq] ?? ''
  if (!/^\d+$/.test(baseSeqText))
    throw new IndexRejectedError(file.path, `invalid delta_seq ${JSON.stringify(baseSeqText)}`)
  return delta ? pendingChanges(delta, Number(baseSeqText)) : new Map()
}

/**
 * The pins per type that Kubo holds now, as far as ipfs-kit knows: the counts of pins.parquet,
 * less what it holds for each CID changed since, plus what Kubo said after each change; `asOf`
 * is the time of the latest of them. Null when the file carries no counts. The one place this
 * arithmetic is done (daemon status, pin list totals).
 */
export async function countsWithPending(
  file: OpenIndexFile,
  pending: ReadonlyMap<string, DeltaEntry>,
): Promise<{ recursive: number; direct: number; asOf: Date } | null> {
  let recursive = Number(file.header.kv[PINS_META.countRecursive])
  let direct = Number(file.header.kv[PINS_META.countDirect])
  if (!Number.isSafeInteger(recursive) || !Number.isSafeInteger(direct)) return null
  let asOf = file.header.generatedAt
  if (pending.size > 0) {
    for await (const row of queryPinFile(file, { cids: [...pending.keys()] })) {
      if (row.type === 'recursive') recursive--
      else direct--
    }
  }
  for (const e of pending.values()) {
    const pin = pinOf(e)
    if (pin?.type === 'recursive') recursive++
    else if (pin) direct++
    if (e.recorded_at > asOf) asOf = e.recorded_at
  }
  return { recursive, direct, asOf }
}
