// The node's pins as the HTTP listener serves them: the manager's own copy of what it last wrote
// to pins.parquet (PinHistory's listing, in CID order) with the changes through ipfs-kit since,
// ordered newest first by a creation time that is unique per pin, as the Pinning Service API
// requires for paging (`before` = the oldest `created` of the last page).
//
// Pins first seen at the same instant (every pin of the first index, every pin one cycle found)
// share a millisecond; they are told apart by nanoseconds below it, by CID order: the first in
// CID order gets .999999 ns past the millisecond, the next .999998, and so on. A change through
// ipfs-kit gets 500,000 ns plus its rank. So `created` never leaves the millisecond of
// first_seen (up to a million pins per millisecond), and the work of ordering a million pins is
// done once per listing, not per request.
import { PACE_EVERY, pacer } from '../indexer/pace.js'
import type { KnownPinset, PinsNow } from '../indexer/pin-history.js'
import type { PinType } from '../store/pins.js'

/** A creation time to the nanosecond: milliseconds since the epoch, and nanoseconds past them. */
export interface CreatedAt {
  ms: number
  ns: number
}

export function compareCreated(a: CreatedAt, b: CreatedAt): number {
  return a.ms - b.ms || a.ns - b.ns
}

/** RFC 3339 with nine fractional digits, UTC. */
export function formatCreated(c: CreatedAt): string {
  // A negative ns (a tie of over a million pins) borrows from the millisecond before.
  const ms = c.ms + Math.floor(c.ns / 1_000_000)
  const ns = ((c.ns % 1_000_000) + 1_000_000) % 1_000_000
  const iso = new Date(ms).toISOString() // 2026-12-03T04:02:27.123Z
  return `${iso.slice(0, 23)}${String(ns).padStart(6, '0')}Z`
}

/** Parses an RFC 3339 time with up to nine fractional digits; null when it is not one. */
export function parseCreated(text: string): CreatedAt | null {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text)
  if (!m) return null
  const whole = Date.parse(`${m[1]}T${m[2]}${m[4] === 'z' ? 'Z' : m[4]}`)
  if (Number.isNaN(whole)) return null
  const frac = (m[3] ?? '').padEnd(9, '0')
  const ms = whole + Number(frac.slice(0, 3))
  return { ms, ns: Number(frac.slice(3)) }
}

export interface ViewPin {
  cid: string
  type: PinType
  name: string | null
  /** When ipfs-kit first saw the pin (ms). */
  firstSeen: number
  /** False for pins that were there when ipfs-kit first indexed the node. */
  exact: boolean
  created: CreatedAt
}

/** What is derived once per listing: the newest-first order and the nanoseconds of each row. */
interface ListingOrder {
  listing: Readonly<KnownPinset>
  /** Row numbers of the listing, newest first (ties: CID order). */
  order: Uint32Array
  /** Per row of the listing: nanoseconds past its first_seen millisecond. */
  ns: Int32Array
  /** Per row: the name in lower case, for the case-insensitive name filters (made when first asked). */
  lower: Array<string | null> | null
  /** The places (of `order`) whose pin has a name, ascending (made when first asked): a name filter reads these only. */
  named: Uint32Array | null
}

/**
 * The listing's order, in steps: it yields every PACE_EVERY rows, so that the manager can run it
 * in turns after a cycle (`PinsView.prepare`; at a million pins it is 100-260 ms of work) and a
 * request that comes first can run it through at once.
 */
function* orderListing(listing: Readonly<KnownPinset>): Generator<void, ListingOrder> {
  const n = listing.cids.length
  // Stable counting sort on first_seen (few distinct values: the baseline and one per cycle that
  // found something), newest first; rows are in CID order already, which breaks the ties.
  const counts = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    if ((i & (PACE_EVERY - 1)) === 0) yield
    const t = listing.firstSeen[i] as number
    counts.set(t, (counts.get(t) ?? 0) + 1)
  }
  const times = [...counts.keys()].sort((a, b) => b - a)
  const next = new Map<number, number>()
  const start = new Map<number, number>()
  let at = 0
  for (const t of times) {
    next.set(t, at)
    start.set(t, at)
    at += counts.get(t) as number
  }
  const order = new Uint32Array(n)
  const ns = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    if ((i & (PACE_EVERY - 1)) === 0) yield
    const t = listing.firstSeen[i] as number
    const k = next.get(t) as number
    next.set(t, k + 1)
    order[k] = i
    ns[i] = 999_999 - (k - (start.get(t) as number))
  }
  return { listing, order, ns, lower: null, named: null }
}

/** The spellings Kubo may list a CID under (v0 and v1 base32 for a dag-pb sha2-256 CID), given any of them. */
export type CidSpellings = (cid: string) => string[]

/** The first index in [0, n) for which `before(i)` is false, where `before` is true then false along the range. */
export function lowerBound(n: number, before: (i: number) => boolean): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (before(mid)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The rows of a sorted list of CIDs that hold this one. */
function rowsOf(cids: readonly string[], cid: string): number[] {
  const out: number[] = []
  for (
    let i = lowerBound(cids.length, (k) => (cids[k] as string) < cid);
    i < cids.length && cids[i] === cid;
    i++
  )
    out.push(i)
  return out
}

/** One consistent picture of the pins (a PinsNow), with what queries need. */
export class PinsSnapshot {
  readonly generation: number
  readonly #o: ListingOrder
  /** Rows of the listing that a change replaced. */
  readonly #replaced = new Set<number>()
  /** Pins added by changes since the listing, newest first. */
  readonly added: ViewPin[] = []

  constructor(now: PinsNow, order: ListingOrder) {
    this.generation = now.generation
    this.#o = order
    const { listing } = order
    const ranks = new Map<number, number>()
    for (const [cid, pin] of [...now.changed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const rows = rowsOf(listing.cids, cid)
      for (const row of rows) this.#replaced.add(row)
      if (!pin) continue
      // The same pin as listed (a name changed, say) keeps its creation time and its exactness.
      const same = rows.find(
        (r) =>
          (listing.recursive[r] ? 'recursive' : 'direct') === pin.type &&
          listing.firstSeen[r] === pin.firstSeen,
      )
      let ns: number
      if (same !== undefined) ns = order.ns[same] as number
      else {
        const rank = ranks.get(pin.firstSeen) ?? 0
        ranks.set(pin.firstSeen, rank + 1)
        ns = 500_000 + rank
      }
      this.added.push({
        cid,
        type: pin.type,
        name: pin.name,
        firstSeen: pin.firstSeen,
        exact: same === undefined ? true : listing.exact[same] === 1,
        created: { ms: pin.firstSeen, ns },
      })
    }
    this.added.sort((a, b) => compareCreated(b.created, a.created))
  }

  /** The creation times of the listing's rows that a change replaced (for counts over a range). */
  replacedCreated(): CreatedAt[] {
    const l = this.#o.listing
    return [...this.#replaced].map((i) => ({ ms: l.firstSeen[i] as number, ns: this.#o.ns[i] as number }))
  }

  /** Pins in all. */
  get size(): number {
    return this.#o.order.length - this.#replaced.size + this.added.length
  }

  /** The listing's pin at place k of the newest-first order, or null when a change replaced it. */
  listed(k: number): ViewPin | null {
    const i = this.#o.order[k] as number
    if (this.#replaced.has(i)) return null
    return this.#row(i)
  }

  #row(i: number): ViewPin {
    const l = this.#o.listing
    return {
      cid: l.cids[i] as string,
      type: l.recursive[i] ? 'recursive' : 'direct',
      name: l.names[i] ?? null,
      firstSeen: l.firstSeen[i] as number,
      exact: l.exact[i] === 1,
      created: { ms: l.firstSeen[i] as number, ns: this.#o.ns[i] as number },
    }
  }

  /** How many places the listing's newest-first order has (replaced ones included). */
  get listedPlaces(): number {
    return this.#o.order.length
  }

  /** The first place of the newest-first order whose pin was created before `t` (strictly). */
  placeBefore(t: CreatedAt): number {
    return this.#search((c) => compareCreated(c, t) < 0)
  }

  /** The first place whose pin was created at or before `t`: places before it are after `t`. */
  placeAtOrBefore(t: CreatedAt): number {
    return this.#search((c) => compareCreated(c, t) <= 0)
  }

  #search(isPast: (c: CreatedAt) => boolean): number {
    const { order, listing, ns } = this.#o
    return lowerBound(order.length, (k) => {
      const i = order[k] as number
      return !isPast({ ms: listing.firstSeen[i] as number, ns: ns[i] as number })
    })
  }

  /** The places of the newest-first order whose pin has a name, in order (named pins are often few). */
  namedPlaces(): Uint32Array {
    if (!this.#o.named) {
      const { order, listing } = this.#o
      const out: number[] = []
      for (let k = 0; k < order.length; k++) if (listing.names[order[k] as number] != null) out.push(k)
      this.#o.named = Uint32Array.from(out)
    }
    return this.#o.named
  }

  /** The listing's name at place k without making a pin object (for scans); undefined when replaced. */
  nameAt(k: number, lowerCase: boolean): string | null | undefined {
    const i = this.#o.order[k] as number
    if (this.#replaced.has(i)) return undefined
    if (!lowerCase) return this.#o.listing.names[i] ?? null
    this.#o.lower ??= this.#o.listing.names.map((n) => (n == null ? null : n.toLowerCase()))
    return this.#o.lower[i] ?? null
  }

  /** Rows of the listing (in CID order), replaced ones included. */
  get rows(): number {
    return this.#o.order.length
  }

  /** The row of the listing at place k of the newest-first order. */
  rowAt(k: number): number {
    return this.#o.order[k] as number
  }

  isReplaced(row: number): boolean {
    return this.#replaced.has(row)
  }

  cidOf(row: number): string {
    return this.#o.listing.cids[row] as string
  }

  nameOf(row: number): string | null {
    return this.#o.listing.names[row] ?? null
  }

  pinOf(row: number): ViewPin {
    return this.#row(row)
  }

  /** The pins of a CID, under any of its spellings. */
  find(spellings: readonly string[]): ViewPin[] {
    const out: ViewPin[] = []
    for (const s of spellings) {
      for (const row of rowsOf(this.#o.listing.cids, s))
        if (!this.#replaced.has(row)) out.push(this.#row(row))
      for (const p of this.added) if (p.cid === s) out.push(p)
    }
    return out
  }
}

/** Keeps the newest-first order of the last listing, so that each request costs only its own work. */
export class PinsView {
  readonly #source: () => PinsNow | null
  #order: ListingOrder | null = null
  #snapshot: PinsSnapshot | null = null

  constructor(source: () => PinsNow | null) {
    this.#source = source
  }

  /** The pins now, or null before the manager knows any listing. */
  snapshot(): PinsSnapshot | null {
    const now = this.#source()
    if (!now) return null
    if (this.#snapshot?.generation === now.generation) return this.#snapshot
    if (this.#order?.listing !== now.listing) {
      // Not prepared yet (a request right after a cycle): at once.
      const steps = orderListing(now.listing)
      let step = steps.next()
      while (!step.done) step = steps.next()
      this.#order = step.value
    }
    this.#snapshot = new PinsSnapshot(now, this.#order)
    return this.#snapshot
  }

  /** Orders a new listing in turns (after each cycle), so that the next request finds it done. */
  async prepare(): Promise<void> {
    const now = this.#source()
    if (!now || this.#order?.listing === now.listing) return
    const pace = pacer()
    const steps = orderListing(now.listing)
    let step = steps.next()
    while (!step.done) {
      await pace()
      step = steps.next()
    }
    // A request may have ordered it meanwhile, or a newer listing come: kept only if still wanted.
    if (this.#order?.listing !== now.listing && this.#source()?.listing === now.listing)
      this.#order = step.value
  }
}
