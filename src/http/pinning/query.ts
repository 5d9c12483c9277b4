// GET /pins: the node's pins (from the manager's copy of the index) and the pin requests, newest
// first, filtered as the spec says, with `count` the number of all that match (Kubo's client pages
// on it). The node's pins are all `pinned` and carry no meta; a pin that a pinned request holds is
// listed once, as that request. A query without a name filter counts by positions (binary searches
// on the creation order), so `limit=10` over a million pins reads about ten of them.
import { type CreatedAt, compareCreated, lowerBound, type PinsSnapshot, type ViewPin } from '../pins-view.js'
import type { PinRequest, PinRequests } from './requests.js'

export type PinStatusName = 'queued' | 'pinning' | 'pinned' | 'failed'
export type TextMatch = 'exact' | 'iexact' | 'partial' | 'ipartial'

export interface PinFilters {
  /** Each CID asked for, as every spelling Kubo may list it under. */
  cids: string[][] | null
  name: { text: string; match: TextMatch } | null
  status: ReadonlySet<PinStatusName>
  before: CreatedAt | null
  after: CreatedAt | null
  meta: Record<string, string> | null
  limit: number
}

export type Listed =
  | { kind: 'node'; pin: ViewPin }
  | { kind: 'request'; request: PinRequest; status: PinStatusName; info: Record<string, string> }

export const createdOf = (e: Listed): CreatedAt =>
  e.kind === 'node' ? e.pin.created : { ms: e.request.created.getTime(), ns: e.request.created_ns }

function nameTest(f: PinFilters['name']): ((name: string | null) => boolean) | null {
  if (!f) return null
  const q = f.match === 'iexact' || f.match === 'ipartial' ? f.text.toLowerCase() : f.text
  switch (f.match) {
    case 'exact':
      return (n) => n === q
    case 'iexact':
      return (n) => n !== null && n.toLowerCase() === q
    case 'partial':
      return (n) => n?.includes(q) === true
    case 'ipartial':
      return (n) => n?.toLowerCase().includes(q) === true
  }
}

const inBounds = (c: CreatedAt, f: PinFilters) =>
  (f.before === null || compareCreated(c, f.before) < 0) &&
  (f.after === null || compareCreated(c, f.after) > 0)

/** What a query needs of the pin requests. */
export type RequestSource = Pick<PinRequests, 'newestFirst' | 'effective'>

export function queryPins(
  view: PinsSnapshot,
  requests: RequestSource,
  f: PinFilters,
): { count: number; results: Listed[] } {
  const matchName = nameTest(f.name)
  const wantCid = f.cids === null ? null : new Set(f.cids.flat())
  // Requests: few; filtered one by one.
  const fromRequests: Listed[] = []
  const hidden = new Set<string>()
  for (const r of requests.newestFirst()) {
    const { status, info } = requests.effective(r)
    if (status === 'pinned') for (const s of r.spellings) hidden.add(s)
    const entry: Listed = { kind: 'request', request: r, status, info }
    if (!f.status.has(status) || !inBounds(createdOf(entry), f)) continue
    if (wantCid && !r.spellings.some((s) => wantCid.has(s))) continue
    if (matchName && !matchName(r.name)) continue
    if (f.meta && !Object.entries(f.meta).every(([k, v]) => r.meta[k] === v)) continue
    fromRequests.push(entry)
  }
  let nodeCount = 0
  let fromNode: ViewPin[] = []
  const metaAsked = f.meta !== null && Object.keys(f.meta).length > 0
  if (f.status.has('pinned') && !metaAsked) {
    const keep = (p: ViewPin) =>
      !hidden.has(p.cid) && inBounds(p.created, f) && (!matchName || matchName(p.name))
    if (f.cids !== null) {
      const seen = new Set<string>()
      for (const spellings of f.cids) {
        for (const p of view.find(spellings)) {
          const key = `${p.cid} ${p.type}`
          if (!seen.has(key) && keep(p)) fromNode.push(p)
          seen.add(key)
        }
      }
      fromNode.sort((a, b) => compareCreated(b.created, a.created))
      nodeCount = fromNode.length
    } else {
      const start = f.before === null ? 0 : view.placeBefore(f.before)
      const end = f.after === null ? view.listedPlaces : view.placeAtOrBefore(f.after)
      const added = view.added.filter(keep)
      const listed: ViewPin[] = []
      if (f.name === null) {
        // Count by positions; correct for the few rows replaced by changes and hidden by requests.
        nodeCount = Math.max(0, end - start) + added.length
        for (const c of view.replacedCreated()) if (inBounds(c, f)) nodeCount--
        for (const s of hidden)
          for (const p of view.find([s])) if (inBounds(p.created, f) && !view.added.includes(p)) nodeCount--
        for (let k = start; k < end && listed.length < f.limit; k++) {
          const p = view.listed(k)
          if (p && !hidden.has(p.cid)) listed.push(p)
        }
      } else {
        // A name filter reads the name of every named pin in range (no object per pin) to count
        // the matches; pins without a name are never read.
        const lower = f.name.match === 'iexact' || f.name.match === 'ipartial'
        const q = lower ? f.name.text.toLowerCase() : f.name.text
        const whole = f.name.match === 'exact' || f.name.match === 'iexact'
        let listedCount = 0
        const named = view.namedPlaces()
        for (
          let m = lowerBound(named.length, (j) => (named[j] as number) < start);
          m < named.length && (named[m] as number) < end;
          m++
        ) {
          const k = named[m] as number
          const n = view.nameAt(k, lower)
          if (n === undefined || n === null || (whole ? n !== q : !n.includes(q))) continue
          const p = listed.length < f.limit || hidden.size > 0 ? view.listed(k) : null
          if (p && hidden.has(p.cid)) continue
          listedCount++
          if (p && listed.length < f.limit) listed.push(p)
        }
        nodeCount = listedCount + added.length
      }
      fromNode = mergeNewestFirst(listed, added, f.limit)
    }
  }
  const merged = mergeNewestFirst<Listed>(
    fromNode.map((pin) => ({ kind: 'node', pin })),
    fromRequests,
    f.limit,
    createdOf,
  )
  return { count: nodeCount + fromRequests.length, results: merged }
}

/** The first `limit` of two newest-first lists, newest first. */
function mergeNewestFirst<T>(
  a: readonly T[],
  b: readonly T[],
  limit: number,
  created: (x: T) => CreatedAt = (x) => (x as unknown as ViewPin).created,
): T[] {
  const out: T[] = []
  let i = 0
  let j = 0
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && compareCreated(created(a[i] as T), created(b[j] as T)) >= 0))
      out.push(a[i++] as T)
    else out.push(b[j++] as T)
  }
  return out
}
