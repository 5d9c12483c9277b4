// How fast the repository grows, from the storage history (one row per index cycle): the
// least-squares slope of the repository size over the last day and over the last week, and
// how long the room left under StorageMax lasts at that rate. Each figure is null, with the
// reason, until the history spans enough time to say it.
import { readDayLog } from '../store/day-log.js'

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

/** The pins added in the last day and still pinned, with their size from content.parquet. */
export async function recentPins(
  kitPath: string,
  peerId: string,
  pins: import('../store/reader.js').OpenIndexFile | null,
  content: import('../store/reader.js').OpenIndexFile | null,
  now = Date.now(),
): Promise<RecentPins> {
  const out: RecentPins = { pins_added_last_day: null, pins_added_last_day_bytes: null, reasons: {} }
  if (!pins) {
    out.reasons.pins_added_last_day = 'pins.parquet cannot be used to tell which are still pinned'
    out.reasons.pins_added_last_day_bytes = out.reasons.pins_added_last_day
    return out
  }
  const events = await readDayLog(kitPath, 'pin_events', peerId, { since: new Date(now - DAY_MS) })
  const added = new Set<string>()
  for (const e of events.rows) if (e.event === 'added') added.add(e.cid as string)
  const { pinTimesOf } = await import('../store/pins.js')
  const still: string[] = []
  for (const [cid, t] of await pinTimesOf(pins, [...added]))
    if (Date.parse(t.first_seen) >= now - DAY_MS) still.push(cid)
  out.pins_added_last_day = still.length
  if (events.refused.length > 0)
    out.reasons.pins_added_last_day = `counted without ${events.refused.length} refused pin-event part(s)`
  if (!content) {
    out.reasons.pins_added_last_day_bytes = 'content.parquet is not there to say their sizes'
    return out
  }
  const { contentSizesOf } = await import('../store/content.js')
  const found = await contentSizesOf(content, still)
  let bytes = 0
  let unknown = 0
  for (const cid of still) {
    const size = found.get(cid)
    if (typeof size === 'number') bytes += size
    else unknown++
  }
  if (unknown > 0) out.reasons.pins_added_last_day_bytes = `${unknown} of them not examined yet`
  else out.pins_added_last_day_bytes = bytes
  return out
}
