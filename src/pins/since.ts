// `pin list --since <t>` without reading every pin: every pin first seen after the baseline has
// an `added` event at its first_seen (pin-history.ts), so the pins first seen at or after t are
// among the CIDs of the added events since t, looked up in pins.parquet (and the delta) like a
// --cid query, and then filtered on their own first_seen. When that cannot be said (t is at or
// before the baseline, older than the events kept, a part of them refused, a file without the
// baseline's time), the caller reads every pin instead.
import { readDayLog } from '../store/day-log.js'
import { PINS_META } from '../store/layout.js'
import type { OpenIndexFile } from '../store/reader.js'

/** `pins` is the pins.parquet the query opened (its baseline time is in its footer). */
export async function addedSince(
  pins: OpenIndexFile,
  kitPath: string,
  peerId: string,
  since: Date,
  retentionMs: number,
  now = Date.now(),
): Promise<{ cids: string[] } | { reason: string }> {
  const baselineAt = Date.parse(pins.header.kv[PINS_META.baselineAt] ?? '')
  if (Number.isNaN(baselineAt)) return { reason: 'pins.parquet does not say when its baseline was taken' }
  if (since.getTime() <= baselineAt) return { reason: 'the time is at or before the first index' }
  if (since.getTime() < now - retentionMs) return { reason: 'the time is older than the pin events kept' }
  const events = await readDayLog(kitPath, 'pin_events', peerId, { since })
  if (events.refused.length > 0) return { reason: `${events.refused.length} pin-event part(s) refused` }
  return { cids: [...new Set(events.rows.filter((e) => e.event === 'added').map((e) => e.cid as string))] }
}
