// How fast the repository grows, from the storage history (one row per index cycle): the
// least-squares slope of the repository size over the last day and over the last week, and
// how long the room left under StorageMax lasts at that rate. Each figure is null, with the
// reason, until the history spans enough time to say it.
import { IndexRejectedError } from '../errors.js'
import { CONTENT_META } from '../store/content-format.js'
import { readDayLog } from '../store/day-log.js'
import { PINS_META, RECENT_PINS_KEPT } from '../store/layout.js'
import { cidParser, type OpenIndexFile } from '../store/reader.js'

const DAY_MS = 86_400_000
/** The history a rate needs: an hour for the daily rate, a day for the weekly one. */
export const MIN_SPAN_MS = { day: 3_600_000, week: DAY_MS } as const

export interface Growth {
  growth_bytes_per_day: number | null
  growth_bytes_per_week: number | null
  days_until_full: number | null
  /** The rows each rate rests on: how many, and the time they span. */
  growth_basis: { rows: number; from: string | null; to: string | null }
  reasons: Record<string, string>
  refused: Array<{ path: string; reason: string }>
}

/** Bytes per millisecond of the least-squares line through (time, size), or null for fewer than two times. */
export function slope(points: ReadonlyArray<{ t: number; v: number }>): number | null {
  if (points.length < 2) return null
  const t0 = (points[0] as { t: number }).t
  let st = 0
  let sv = 0
  for (const p of points) {
    st += p.t - t0
    sv += p.v
  }
  const mt = st / points.length
  const mv = sv / points.length
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.t - t0 - mt) * (p.v - mv)
    den += (p.t - t0 - mt) ** 2
  }
  return den === 0 ? null : num / den
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

export async function growthOf(
  kitPath: string,
  peerId: string,
  latest: { repoSize: number | null; storageMax: number | null },
  now = Date.now(),
): Promise<Growth> {
  const read = await readDayLog(kitPath, 'history_storage', peerId, { since: new Date(now - 7 * DAY_MS) })
  const points = read.rows.flatMap((r) =>
    typeof r.repo_size_bytes === 'number'
      ? [{ t: Date.parse(r.collected_at as string), v: r.repo_size_bytes }]
      : [],
  )
  const g: Growth = {
    growth_bytes_per_day: null,
    growth_bytes_per_week: null,
    days_until_full: null,
    growth_basis: {
      rows: points.length,
      from: points.length ? new Date((points[0] as { t: number }).t).toISOString() : null,
      to: points.length ? new Date((points.at(-1) as { t: number }).t).toISOString() : null,
    },
    reasons: {},
    refused: read.refused,
  }
  const rate = (windowMs: number, need: number, key: 'growth_bytes_per_day' | 'growth_bytes_per_week') => {
    const inWindow = points.filter((p) => p.t >= now - windowMs)
    const span = inWindow.length ? (inWindow.at(-1) as { t: number }).t - (inWindow[0] as { t: number }).t : 0
    if (span < need) {
      g.reasons[key] =
        `needs ${minutes(need)} of storage history in the last ${windowMs === DAY_MS ? 'day' : 'week'}; it spans ${minutes(span)} (${inWindow.length} rows)`
      return
    }
    const perMs = slope(inWindow)
    if (perMs === null) g.reasons[key] = 'the storage history has no two distinct times'
    else g[key] = Math.round(perMs * (windowMs === DAY_MS ? DAY_MS : 7 * DAY_MS))
  }
  rate(DAY_MS, MIN_SPAN_MS.day, 'growth_bytes_per_day')
  rate(7 * DAY_MS, MIN_SPAN_MS.week, 'growth_bytes_per_week')
  if (read.refused.length > 0)
    for (const k of ['growth_bytes_per_day', 'growth_bytes_per_week'] as const)
      if (g[k] === null) g.reasons[k] = `${g.reasons[k]}; ${read.refused.length} history part(s) refused`
  // The weekly rate when there is one (a day is noisier: a gc, one large import), else the daily.
  const perDay = g.growth_bytes_per_week !== null ? g.growth_bytes_per_week / 7 : g.growth_bytes_per_day
  if (perDay === null) g.reasons.days_until_full = 'needs the growth rate first'
  else if (latest.storageMax === null || latest.repoSize === null)
    g.reasons.days_until_full = 'the repository size or its limit (StorageMax) is not known'
  else if (latest.repoSize >= latest.storageMax) g.days_until_full = 0
  else if (perDay <= 0)
    g.reasons.days_until_full = `the repository is not growing (${Math.round(perDay)} bytes a day)`
  else g.days_until_full = Number(((latest.storageMax - latest.repoSize) / perDay).toFixed(1))
  return g
}

export interface RecentPins {
  /** Pins first seen in the last day (added events) that are still pinned. */
  pins_added_last_day: number | null
  /** Their DAG bytes (each counted whole, shared blocks more than once); null until all are examined. */
  pins_added_last_day_bytes: number | null
  reasons: Record<string, string>
}

/**
 * The pins added in the last day and still pinned, with their size from content.parquet. Both
 * files carry them in their footers (PINS_META.recentPins, CONTENT_META.recentSizes) as the
 * manager wrote them; past the footer's RECENT_PINS_KEPT, pins_recent.parquet says which they
 * are; where neither does (a file written before) the pin events do, and a size the footer lacks
 * is looked up.
 */
export async function recentPins(
  kitPath: string,
  peerId: string,
  pins: OpenIndexFile | null,
  content: OpenIndexFile | null,
  now = Date.now(),
): Promise<RecentPins> {
  const out: RecentPins = { pins_added_last_day: null, pins_added_last_day_bytes: null, reasons: {} }
  if (!pins) {
    out.reasons.pins_added_last_day = 'pins.parquet cannot be used to tell which are still pinned'
    out.reasons.pins_added_last_day_bytes = out.reasons.pins_added_last_day
    return out
  }
  let still = (await listedRecentPins(pins, now)) ?? (await subsetRecentPins(kitPath, pins, now))
  if (still === null) {
    const events = await readDayLog(kitPath, 'pin_events', peerId, { since: new Date(now - DAY_MS) })
    const added = new Set<string>()
    for (const e of events.rows) if (e.event === 'added') added.add(e.cid as string)
    const { pinTimesOf } = await import('../store/pins.js')
    still = []
    for (const [cid, t] of await pinTimesOf(pins, [...added]))
      if (Date.parse(t.first_seen) >= now - DAY_MS) still.push(cid)
    if (events.refused.length > 0)
      out.reasons.pins_added_last_day = `counted without ${events.refused.length} refused pin-event part(s)`
  }
  out.pins_added_last_day = still.length
  if (!content) {
    out.reasons.pins_added_last_day_bytes = 'content.parquet is not there to say their sizes'
    return out
  }
  // The footer's sizes, and a lookup of the others.
  const sizes = listedSizes(content)
  const missing = still.filter((cid) => !sizes.has(cid))
  if (missing.length > 0) {
    const { contentSizesOf } = await import('../store/content.js')
    for (const [cid, size] of await contentSizesOf(content, missing)) sizes.set(cid, size)
  }
  let bytes = 0
  let unknown = 0
  for (const cid of still) {
    const size = sizes.get(cid)
    if (typeof size === 'number') bytes += size
    else unknown++
  }
  if (unknown > 0) out.reasons.pins_added_last_day_bytes = `${unknown} of them not examined yet`
  else out.pins_added_last_day_bytes = bytes
  return out
}

/**
 * The CIDs pins_recent.parquet holds as first seen in the day before `now`, when it is of this
 * pins.parquet and its window covers that day (a node that adds more pins a day than the footer
 * lists); null otherwise, or when it breaks during the read (the events then answer).
 */
async function subsetRecentPins(kitPath: string, pins: OpenIndexFile, now: number): Promise<string[] | null> {
  const since = now - DAY_MS
  const { openRecentPins, queryPinFile } = await import('../store/pins.js')
  const subset = await openRecentPins(kitPath, pins, since)
  if (!subset) return null
  try {
    const still: string[] = []
    for await (const row of queryPinFile(subset, {})) {
      // A CID pinned both ways is two rows, next to each other: counted once.
      if (
        row.first_seen_exact &&
        row.first_seen !== null &&
        Date.parse(row.first_seen) >= since &&
        still.at(-1) !== row.cid
      )
        still.push(row.cid)
    }
    return still
  } catch (err) {
    if (err instanceof IndexRejectedError) return null
    throw err
  } finally {
    await subset.close()
  }
}

/**
 * The CIDs pins.parquet lists as first seen in the day before `now` (PINS_META.recentPins), or
 * null where its list cannot say (none, more pins than it lists, a window that begins after
 * the list's); refused when the list is not what the manager writes.
 */
async function listedRecentPins(pins: OpenIndexFile, now: number): Promise<string[] | null> {
  const text = pins.header.kv[PINS_META.recentPins]
  if (text === undefined) return null
  const bad = (why: string) => new IndexRejectedError(pins.path, `its ${PINS_META.recentPins} ${why}`)
  let meta: { from?: unknown; pins?: unknown; count?: unknown }
  try {
    meta = JSON.parse(text) ?? {}
  } catch {
    throw bad('is not valid JSON')
  }
  const from = typeof meta.from === 'string' ? Date.parse(meta.from) : Number.NaN
  const count = meta.count
  if (Number.isNaN(from) || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)
    throw bad('has no valid window start or count')
  if (meta.pins === null) {
    if (count <= RECENT_PINS_KEPT) throw bad(`lists no pins for a count of ${count}`)
    return null
  }
  if (!Array.isArray(meta.pins) || meta.pins.length !== count)
    throw bad('does not list as many pins as it counts')
  const parse = await cidParser()
  const seen = new Set<string>()
  const since = now - DAY_MS
  const still: string[] = []
  for (const entry of meta.pins as unknown[]) {
    const [cid, t] = Array.isArray(entry) ? entry : []
    if (typeof cid !== 'string' || typeof t !== 'number' || !Number.isFinite(t) || seen.has(cid))
      throw bad(`holds an invalid entry: ${JSON.stringify(entry)?.slice(0, 120)}`)
    try {
      parse(cid)
    } catch {
      throw bad(`holds an invalid CID: ${JSON.stringify(cid.slice(0, 80))}`)
    }
    seen.add(cid)
    if (t >= since) still.push(cid)
  }
  // The list holds the pins first seen since its start: a window that begins before that
  // (a clock set back since the file was written) is not all in it.
  return from <= since ? still : null
}

/** The sizes content.parquet lists for the last day's pins (CONTENT_META.recentSizes): none in a file without them. */
function listedSizes(content: OpenIndexFile): Map<string, number | null> {
  const text = content.header.kv[CONTENT_META.recentSizes]
  const sizes = new Map<string, number | null>()
  if (text === undefined) return sizes
  const bad = (why: string) => new IndexRejectedError(content.path, `its ${CONTENT_META.recentSizes} ${why}`)
  let listed: unknown
  try {
    listed = JSON.parse(text)
  } catch {
    throw bad('is not valid JSON')
  }
  if (typeof listed !== 'object' || listed === null || Array.isArray(listed)) throw bad('is not an object')
  for (const [cid, size] of Object.entries(listed)) {
    if (size !== null && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0))
      throw bad(`holds an impossible size for ${cid.slice(0, 80)}: ${JSON.stringify(size)}`)
    sizes.set(cid, size)
  }
  return sizes
}
