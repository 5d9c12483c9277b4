// When each pin appeared and went: the manager's memory of the pinset between cycles, the
// `first_seen` of every pin, and the pin events (layout.ts's `pin_events` day log).
//
// Each cycle's listing (in CID order) is merged with the last one, which is in memory (read back
// from pins.parquet once when the manager starts): a pin in the new listing only is `added`, one
// in the old only `removed`, timed by the cycle (source `cycle`). A change made through
// ipfs-kit is recorded when Kubo confirms it (source `ipfs-kit`, timed then) and kept as an
// overlay until a cycle's listing holds it, so that the cycle does not record it again. The first
// index of a node is the baseline: its pins get that index's time as first_seen, marked not
// exact, and no events.

import { IndexMissingError, IndexRejectedError } from '../errors.js'
import type { Logger } from '../manager/log.js'
import { indexFilePath, PINS_META } from '../store/layout.js'
import type { DeltaEntry } from '../store/pin-delta.js'
import { type PinType, queryPinFile } from '../store/pins.js'
import { openIndexFile } from '../store/reader.js'
import type { StateRow } from '../store/state.js'
import type { DayLogContext, DayLogWriter } from './day-log.js'
import { fillInTurns, PACE_EVERY, pacer } from './pace.js'

/** A pinset in CID order (then type: `direct` before `recursive`), with when each pin was first seen. */
export interface KnownPinset {
  cids: string[]
  /** 1: recursive, 0: direct. */
  recursive: Uint8Array
  names: Array<string | null>
  /** Milliseconds since the epoch. */
  firstSeen: Float64Array
  /** 1: first_seen is when the pin appeared; 0: the pin was there at the first index. */
  exact: Uint8Array
}

/** What a change through ipfs-kit left: the pin Kubo holds for the CID, or none. */
interface Recorded {
  seq: number
  pin: { type: PinType; name: string | null; firstSeen: number } | null
}

/**
 * The pins as the manager knows them now (for the HTTP listener): the last listing, and the
 * changes through ipfs-kit confirmed since, which replace the listing's rows of their CIDs.
 * `generation` grows with every change, so that a reader can keep what it derived until then.
 */
export interface PinsNow {
  listing: Readonly<KnownPinset>
  changed: ReadonlyMap<string, { type: PinType; name: string | null; firstSeen: number } | null>
  generation: number
}

export interface PinEvent {
  at: Date
  cid: string
  event: 'added' | 'removed'
  type: PinType
  name: string | null
  source: 'cycle' | 'ipfs-kit'
}

const typeName = (recursive: number): PinType => (recursive ? 'recursive' : 'direct')

/** -1, 0, 1: the order of the listing (CID, then the type's name). */
function compare(cidA: string, recA: number, cidB: string, recB: number): number {
  if (cidA !== cidB) return cidA < cidB ? -1 : 1
  return recA === recB ? 0 : recA ? 1 : -1
}

/** The rows of a sorted pinset that hold this CID (none, one, or one of each type). */
function rowsOf(set: { cids: string[] }, cid: string): number[] {
  let lo = 0
  let hi = set.cids.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((set.cids[mid] as string) < cid) lo = mid + 1
    else hi = mid
  }
  const out: number[] = []
  for (let i = lo; i < set.cids.length && set.cids[i] === cid; i++) out.push(i)
  return out
}

export class PinHistory {
  readonly #kitPath: string
  readonly #events: DayLogWriter
  readonly #log: Logger
  #known: KnownPinset | null = null
  #peerId: string | null = null
  #loaded = false
  /** When the baseline was taken (ms), once known. */
  #baselineAt: number | null = null
  readonly #overlay = new Map<string, Recorded>()
  #generation = 0

  constructor(options: { kitPath: string; events: DayLogWriter; log: Logger }) {
    this.#kitPath = options.kitPath
    this.#events = options.events
    this.#log = options.log
  }

  /** The pinset of this node's pins.parquet (once per peer ID), or none: the next cycle is the baseline. */
  async #load(peerId: string): Promise<void> {
    if (this.#loaded && this.#peerId === peerId) return
    this.#known = null
    this.#baselineAt = null
    this.#overlay.clear()
    this.#peerId = peerId
    this.#loaded = true
    let file: Awaited<ReturnType<typeof openIndexFile>>
    try {
      file = await openIndexFile(indexFilePath(this.#kitPath, 'pins'), 'pins', peerId)
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      // Missing, another node's, an older schema without first_seen, damaged: a new baseline.
      if (!(err instanceof IndexMissingError))
        this.#log.info('pin history starts anew: the last pins.parquet cannot be read back', {
          reason: err.reason,
        })
      return
    }
    try {
      const baseline = Date.parse(file.header.kv[PINS_META.baselineAt] ?? '')
      this.#baselineAt = Number.isNaN(baseline) ? null : baseline
      const n = file.header.rowCount
      // A million rows read back and checked are seconds of work: in turns (pace.ts); the arrays
      // made at their full length (big.ts: an array grown to a million by push holds the event
      // loop up when it grows).
      const pace = pacer()
      const cids = new Array<string>(n)
      await pace()
      const names = new Array<string | null>(n)
      const known: KnownPinset = {
        cids,
        recursive: new Uint8Array(n),
        names,
        firstSeen: new Float64Array(n),
        exact: new Uint8Array(n),
      }
      let k = 0
      for await (const row of queryPinFile(file, {})) {
        if ((k & (PACE_EVERY - 1)) === 0) await pace()
        if (k >= n) throw new IndexRejectedError(file.path, 'it holds more rows than it says')
        cids[k] = row.cid
        names[k] = row.name
        known.recursive[k] = row.type === 'recursive' ? 1 : 0
        known.firstSeen[k] = Date.parse(row.first_seen as string)
        known.exact[k] = row.first_seen_exact ? 1 : 0
        k++
      }
      cids.length = k
      names.length = k
      this.#known = known
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      this.#log.info('pin history starts anew: the last pins.parquet cannot be read back', {
        reason: err.reason,
      })
    } finally {
      await file.close()
    }
  }

  /** The pins now, or null before the first listing of this manager's run (or its pins.parquet) is known. */
  now(): PinsNow | null {
    const known = this.#known
    if (!known) return null
    const changed = new Map<string, { type: PinType; name: string | null; firstSeen: number } | null>()
    for (const [cid, r] of this.#overlay) changed.set(cid, r.pin)
    return { listing: known, changed, generation: this.#generation }
  }

  /** Reads back the last pins.parquet of this node if nothing is known yet (so that now() answers before the first cycle). */
  async prime(peerId: string): Promise<void> {
    await this.#load(peerId)
    this.#generation++
  }

  /**
   * The names this history knows for a listing made without names (in the same order: CID, then
   * type), from the last listing and the changes through ipfs-kit since; `unknown` holds the rows
   * it has no name for (pins new since), which must be asked of Kubo. Null before any listing is
   * known (the first listing must carry the names).
   */
  async knownNames(
    peerId: string,
    listing: { cids: readonly string[]; recursive: Uint8Array },
  ): Promise<{ names: Array<string | null>; unknown: number[] } | null> {
    await this.#load(peerId)
    const known = this.#known
    if (!known) return null
    const names: Array<string | null> = new Array(listing.cids.length).fill(null)
    const unknown: number[] = []
    let j = 0
    const m = known.cids.length
    const pace = pacer()
    for (let k = 0; k < listing.cids.length; k++) {
      if ((k & (PACE_EVERY - 1)) === 0) await pace()
      const cid = listing.cids[k] as string
      const rec = listing.recursive[k] as number
      const recorded = this.#overlay.get(cid)
      if (recorded) {
        if (recorded.pin && recorded.pin.type === typeName(rec)) {
          names[k] = recorded.pin.name
          continue
        }
      }
      let c = 1
      while (j < m) {
        c = compare(known.cids[j] as string, known.recursive[j] as number, cid, rec)
        if (c >= 0) break
        j++
      }
      if (j < m && c === 0 && !recorded) names[k] = known.names[j] ?? null
      else unknown.push(k)
    }
    return { names, unknown }
  }

  /** What the node held for a CID as far as this history knows: the overlay, else the last listing. */
  #before(cid: string): { type: PinType; name: string | null; firstSeen: number; exact: boolean } | null {
    const recorded = this.#overlay.get(cid)
    if (recorded) return recorded.pin ? { ...recorded.pin, exact: true } : null
    const known = this.#known
    if (!known) return null
    const at = rowsOf(known, cid).at(-1)
    if (at === undefined) return null
    return {
      type: typeName(known.recursive[at] as number),
      name: known.names[at] ?? null,
      firstSeen: known.firstSeen[at] as number,
      exact: known.exact[at] === 1,
    }
  }

  /**
   * Changes through ipfs-kit, each as Kubo confirmed it (the delta entries): recorded as events
   * now, and kept until a cycle's listing holds them. Before the first index there is nothing
   * to compare with, and nothing is recorded.
   */
  async recorded(ctx: DayLogContext, entries: readonly DeltaEntry[]): Promise<void> {
    await this.#load(ctx.peerId)
    if (!this.#known) return
    const events: PinEvent[] = []
    for (const e of entries) {
      const before = this.#before(e.cid)
      const at = e.recorded_at
      const now = e.op === 'add' && e.type !== null ? { type: e.type, name: e.name } : null
      if (before && (!now || now.type !== before.type))
        events.push({
          at,
          cid: e.cid,
          event: 'removed',
          type: before.type,
          name: before.name,
          source: 'ipfs-kit',
        })
      if (now && (!before || now.type !== before.type))
        events.push({ at, cid: e.cid, event: 'added', type: now.type, name: now.name, source: 'ipfs-kit' })
      const firstSeen = before && now && before.type === now.type ? before.firstSeen : at.getTime()
      this.#overlay.set(e.cid, { seq: e.seq, pin: now ? { ...now, firstSeen } : null })
    }
    this.#generation++
    await this.#write(ctx, events)
  }

  async #write(ctx: DayLogContext, events: PinEvent[]): Promise<void> {
    if (events.length === 0) return
    // The events are a record beside the index: failing to write them costs them, never the pin
    // index or a pin change (the log says how many were lost).
    try {
      await this.#events.append(ctx, events as unknown as StateRow[])
    } catch (err) {
      this.#log.warn('could not record pin events', { events: events.length, error: (err as Error).message })
    }
  }

  /**
   * One cycle's listing, in CID order: records the pins that appeared and went since the last
   * listing (and the recorded changes), and returns each row's first_seen. `deltaSeq`: every
   * change through ipfs-kit up to it was confirmed before the listing began, so the listing holds
   * it; a later one may or may not be in it, and waits for the next cycle.
   */
  async cycle(
    ctx: DayLogContext,
    listing: { cids: string[]; recursive: Uint8Array; names: Array<string | null> },
    deltaSeq: number,
    at: Date,
  ): Promise<{
    firstSeen: Float64Array
    exact: Uint8Array
    added: number
    removed: number
    /** When the baseline was taken, when known (an older file did not say). */
    baselineAt: Date | null
  }> {
    await this.#load(ctx.peerId)
    const n = listing.cids.length
    const firstSeen = new Float64Array(n)
    const exact = new Uint8Array(n)
    const known = this.#known
    const atMs = at.getTime()
    const events: PinEvent[] = []
    if (!known) {
      // The baseline: these pins were there before ipfs-kit looked.
      await fillInTurns(firstSeen, atMs, pacer())
      this.#overlay.clear()
      this.#baselineAt = atMs
    } else {
      const overlay = this.#overlay
      const event = (cid: string, kind: PinEvent['event'], rec: number, name: string | null) => {
        if (!overlay.has(cid))
          events.push({ at, cid, event: kind, type: typeName(rec), name, source: 'cycle' })
      }
      // Both sides are in the same order: one pass, no lookups.
      let j = 0
      const m = known.cids.length
      const pace = pacer()
      for (let k = 0; k < n; k++) {
        if ((k & (PACE_EVERY - 1)) === 0) await pace()
        const cid = listing.cids[k] as string
        const rec = listing.recursive[k] as number
        let c = 1
        while (j < m) {
          c = compare(known.cids[j] as string, known.recursive[j] as number, cid, rec)
          if (c >= 0) break
          event(known.cids[j] as string, 'removed', known.recursive[j] as number, known.names[j] ?? null)
          j++
        }
        if (j < m && c === 0) {
          firstSeen[k] = known.firstSeen[j] as number
          exact[k] = known.exact[j] as number
          j++
          continue
        }
        const recorded = overlay.get(cid)?.pin
        firstSeen[k] = recorded && recorded.type === typeName(rec) ? recorded.firstSeen : atMs
        exact[k] = 1
        event(cid, 'added', rec, listing.names[k] ?? null)
      }
      for (; j < m; j++)
        event(known.cids[j] as string, 'removed', known.recursive[j] as number, known.names[j] ?? null)
      // A recorded change the listing holds was recorded already; what changed since (a plain
      // `ipfs pin` after it) is this cycle's.
      for (const [cid, recorded] of overlay) {
        if (recorded.seq > deltaSeq) continue
        overlay.delete(cid)
        const rows = rowsOf(listing, cid)
        const had = recorded.pin
        for (const k of rows) {
          const rec = listing.recursive[k] as number
          if (!had || had.type !== typeName(rec))
            events.push({
              at,
              cid,
              event: 'added',
              type: typeName(rec),
              name: listing.names[k] ?? null,
              source: 'cycle',
            })
        }
        if (had && !rows.some((k) => typeName(listing.recursive[k] as number) === had.type))
          events.push({ at, cid, event: 'removed', type: had.type, name: had.name, source: 'cycle' })
      }
    }
    this.#known = { cids: listing.cids, recursive: listing.recursive, names: listing.names, firstSeen, exact }
    this.#generation++
    await this.#write(ctx, events)
    await this.#events
      .prune(ctx)
      .catch((err: Error) => this.#log.warn('could not prune pin events', { error: err.message }))
    return {
      firstSeen,
      exact,
      added: events.filter((e) => e.event === 'added').length,
      removed: events.filter((e) => e.event === 'removed').length,
      baselineAt: this.#baselineAt === null ? null : new Date(this.#baselineAt),
    }
  }
}
