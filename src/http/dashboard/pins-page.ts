// One page of the dashboard's pin browser: search (a CID, or text in a name or CID), a kind
// filter (from the content index), sorted newest first, by CID or largest first, paged. Scans
// work on the listing's columns and make a pin object only for the rows of the page, so a page
// of a million pins costs one pass at most, and none without a filter.
import { PACE_EVERY, pacer } from '../../indexer/pace.js'
import type { ContentRow } from '../../store/content-format.js'
import type { PinsSnapshot, ViewPin } from '../pins-view.js'

export interface PinsPageQuery {
  /** A CID (any spelling) or text found in a name (any case) or a CID; '' for all. */
  search: string
  kind: string | null
  sort: 'created' | 'size' | 'cid'
  offset: number
  limit: number
}

export interface ContentLookup {
  rows: () => ReadonlyMap<string, ContentRow> | null
  /** Examined pins with a size, largest first (built in turns at a new version of the content index). */
  bySize: () => Promise<readonly ContentRow[]> | null
}

/** The spellings of `text` when it is a CID, else null. */
async function asCid(text: string): Promise<string[] | null> {
  if (!/^[a-zA-Z0-9]{46,}$/.test(text)) return null
  const { parseUserCid } = await import('../../pins/cid.js')
  try {
    return (await parseUserCid(text)).spellings
  } catch {
    return null
  }
}

export async function dashboardPins(
  view: PinsSnapshot,
  q: PinsPageQuery,
  content: ContentLookup,
): Promise<{ total: number; pins: ViewPin[] }> {
  const rows = content.rows()
  const kindOk = (cid: string) => q.kind === null || rows?.get(cid)?.kind === q.kind
  const page = (all: ViewPin[]) => ({ total: all.length, pins: all.slice(q.offset, q.offset + q.limit) })

  const spellings = q.search === '' ? null : await asCid(q.search)
  if (spellings) return page(view.find(spellings).filter((p) => kindOk(p.cid)))

  const needle = q.search.toLowerCase()
  const textOk = (cid: string, name: string | null) =>
    needle === '' || cid.includes(q.search) || name?.toLowerCase().includes(needle)
  const added = view.added.filter((p) => textOk(p.cid, p.name) && kindOk(p.cid))

  if (q.sort === 'size') {
    const sized = (await content.bySize()) ?? []
    const out: ViewPin[] = []
    let total = 0
    // Every sized row is looked up in the listing: at a million, in turns (pace.ts).
    const pace = pacer()
    for (let i = 0; i < sized.length; i++) {
      if ((i & (PACE_EVERY - 1)) === 0) await pace()
      const r = sized[i] as ContentRow
      if (q.kind !== null && r.kind !== q.kind) continue
      const pins = view.find([r.cid]).filter((p) => textOk(p.cid, p.name))
      if (pins.length === 0) continue
      if (total >= q.offset && out.length < q.limit) out.push(pins[0] as ViewPin)
      total++
    }
    return { total, pins: out }
  }

  // Newest first (places of the creation order) or by CID (rows of the listing), with the pins
  // added since the listing merged in.
  const n = view.rows
  const rowOf = q.sort === 'created' ? (k: number) => view.rowAt(k) : (k: number) => k
  const before = (p: ViewPin, row: number) =>
    q.sort === 'created'
      ? p.created.ms > view.pinOf(row).created.ms ||
        (p.created.ms === view.pinOf(row).created.ms && p.created.ns > view.pinOf(row).created.ns)
      : p.cid < view.cidOf(row)
  if (q.sort === 'cid') added.sort((a, b) => (a.cid < b.cid ? -1 : 1))
  const out: ViewPin[] = []
  let total = 0
  let j = 0
  const take = (p: () => ViewPin) => {
    if (total >= q.offset && out.length < q.limit) out.push(p())
    total++
  }
  const filtered = needle !== '' || q.kind !== null
  for (let k = 0; k < n; k++) {
    const row = rowOf(k)
    if (view.isReplaced(row)) continue
    // Without a filter every pin counts: stop once the page is full.
    if (!filtered && out.length >= q.limit) return { total: view.size, pins: out }
    while (j < added.length && before(added[j] as ViewPin, row)) {
      const a = added[j++] as ViewPin
      take(() => a)
    }
    if (filtered && !(textOk(view.cidOf(row), view.nameOf(row)) && kindOk(view.cidOf(row)))) continue
    take(() => view.pinOf(row))
  }
  while (j < added.length) {
    const a = added[j++] as ViewPin
    take(() => a)
  }
  return { total: filtered ? total : view.size, pins: out }
}
