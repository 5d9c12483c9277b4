// What each listed pin is: the rows of content.parquet joined to the pins `pin list` prints
// (size, kind, MIME type; null until examined, never 0), the content filters (--min-size,
// --kind, --mime) and --sort size, and `du` of one CID. content.parquet is checked like every
// index file; when it cannot be used, a few CIDs are asked of Kubo (offline), and a filter over
// all pins is refused rather than answered without the facts.
import { IndexRejectedError, PinSourceUnavailableError } from '../errors.js'
import {
  allContent,
  type ContentFacts,
  contentFactsOf,
  contentOf,
  largestOf,
  openContent,
} from '../store/content.js'
import { type ContentKind, type ContentRow, LARGEST_KEPT } from '../store/content-format.js'
import type { PinRow, PinType } from '../store/pins.js'
import type { OpenIndexFile } from '../store/reader.js'
import type { ListOptions, PinListing } from './list.js'

export interface ContentFilter {
  minSize?: number
  kind?: ContentKind
  /** A MIME type, or a prefix ending in `/*` (`image/*`). */
  mime?: string
}

export interface SizedPin extends PinRow {
  /** dag_size_bytes: what `dag stat --offline` reports; null until examined (or when incomplete). */
  size: number | null
  kind: ContentKind | null
  mime: string | null
}

export function hasContentFilter(f: ContentFilter): boolean {
  return f.minSize !== undefined || f.kind !== undefined || f.mime !== undefined
}

export function passesContent(row: ContentFacts | undefined, f: ContentFilter): boolean {
  if (f.minSize !== undefined && (row?.dag_size_bytes ?? -1) < f.minSize) return false
  if (f.kind !== undefined && row?.kind !== f.kind) return false
  if (f.mime !== undefined) {
    const mime = row?.mime
    if (!mime) return false
    if (f.mime.endsWith('/*') ? !mime.startsWith(f.mime.slice(0, -1)) : mime !== f.mime) return false
  }
  return true
}

export function sized(pin: PinRow, row: ContentFacts | undefined): SizedPin {
  // Spelled out, not spread: this runs once per pin of a full listing.
  return {
    cid: pin.cid,
    type: pin.type,
    name: pin.name,
    first_seen: pin.first_seen,
    first_seen_exact: pin.first_seen_exact,
    size: row?.dag_size_bytes ?? null,
    kind: row?.kind ?? null,
    mime: row?.mime ?? null,
  }
}

export interface ContentSource {
  /** Null when content.parquet is missing or refused (then `problem` says why). */
  file: OpenIndexFile | null
  problem: string | null
  close(): Promise<void>
}

/** A refusal found while reading: the source is not used again, and says why. */
async function refuse(source: ContentSource, err: IndexRejectedError): Promise<void> {
  await source.close()
  source.file = null
  source.problem = `content.parquet ${err.reason}`
  source.close = async () => {}
}

export async function openContentSource(kitPath: string, peerId: string | null): Promise<ContentSource> {
  if (peerId === null)
    return { file: null, problem: 'no repository to check content.parquet against', close: async () => {} }
  try {
    const file = await openContent(kitPath, peerId)
    return {
      file,
      problem: file
        ? null
        : 'content.parquet is not written yet (the daemon examines pins in the background)',
      close: async () => file?.close(),
    }
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
    return { file: null, problem: `content.parquet ${err.reason}`, close: async () => {} }
  }
}

/**
 * What content.parquet says of these pins (their size, kind and MIME type; every column with
 * `whole`): a page lookup for a few, a merge for many.
 */
export async function contentForPins(
  source: ContentSource,
  pins: readonly PinRow[],
): Promise<Map<string, ContentFacts>>
export async function contentForPins(
  source: ContentSource,
  pins: readonly PinRow[],
  whole: true,
): Promise<Map<string, ContentRow>>
export async function contentForPins(
  source: ContentSource,
  pins: readonly PinRow[],
  whole = false,
): Promise<Map<string, ContentFacts>> {
  if (!source.file || pins.length === 0) return new Map()
  try {
    if (pins.length <= 2_000) {
      const cids = pins.map((p) => p.cid)
      return await (whole ? contentOf(source.file, cids) : contentFactsOf(source.file, cids))
    }
    const wanted = new Set(pins.map((p) => p.cid))
    const found = new Map<string, ContentRow>()
    for await (const row of allContent(source.file)) if (wanted.has(row.cid)) found.set(row.cid, row)
    return found
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
    // Nothing of a file refused half-way is used: the caller shows no size rather than some.
    await refuse(source, err)
    return new Map()
  }
}

/**
 * The pins (in CID order, as listed) that pass the content filter, sorted by size when asked
 * (largest first; unknown sizes last, in CID order), cut to the limit. Needs content.parquet.
 */
export async function filterAndSort(
  source: ContentSource,
  pins: readonly PinRow[],
  filter: ContentFilter,
  sort: 'cid' | 'size',
  limit: number,
): Promise<SizedPin[]> {
  const unavailable = () =>
    new PinSourceUnavailableError(
      `cannot ${sort === 'size' ? 'sort pins by size' : 'filter pins by size, kind or type'}: ${source.problem}`,
      {
        hint: 'the daemon fills content.parquet in the background (and rewrites a refused one); see `ipfs-kit index status`',
      },
    )
  if (!source.file) throw unavailable()
  const content = await contentForPins(source, pins)
  if (!source.file) throw unavailable()
  let out = pins
    .filter((p) => passesContent(content.get(p.cid), filter))
    .map((p) => sized(p, content.get(p.cid)))
  if (sort === 'size') {
    out = out.sort((a, b) => {
      if (a.size === b.size) return a.cid < b.cid ? -1 : 1
      if (a.size === null) return 1
      if (b.size === null) return -1
      return b.size - a.size
    })
  }
  return limit > 0 ? out.slice(0, limit) : out
}

/**
 * `pin list --sort size --limit n` over all pins (or one type), for n up to LARGEST_KEPT,
 * without reading every pin: content.parquet's footer lists its largest examined DAGs in this
 * very order (largest first, then by CID; content-writer.ts), and content.parquet holds the
 * rows of one pinset only, so the first n of them still pinned (and of the type) are the answer,
 * looked up in pins.parquet (with the changes since) like `--cid`. Null when that cannot be said
 * (no usable index or content file, fewer than n of them pinned, no total known): the caller
 * then sorts every pin.
 */
export async function largestPins(
  source: ContentSource,
  limit: number,
  type: PinType | undefined,
  list: (options: ListOptions) => Promise<PinListing>,
): Promise<{ listing: PinListing; pins: SizedPin[] } | null> {
  if (!source.file || limit < 1 || limit > LARGEST_KEPT) return null
  let largest: Awaited<ReturnType<typeof largestOf>>
  try {
    largest = await largestOf(source.file)
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
    await refuse(source, err)
    return null
  }
  if (largest.length < limit) return null
  const found = new Map<string, PinRow>()
  const listing = await list({
    query: { cids: largest.map((l) => l.cid), ...(type ? { type } : {}) },
    limit: 0,
    totalOf: type ? { type } : {},
    indexOnly: true,
    onPin: (p) => {
      found.set(p.cid, p)
      return undefined
    },
  })
  if (listing.source !== 'index' || listing.total === null) return null
  const chosen = largest.flatMap((l) => found.get(l.cid) ?? []).slice(0, limit)
  const sizeOf = new Map(largest.map((l) => [l.cid, l.size]))
  if (chosen.length < limit) return null
  const rows = await contentForPins(source, chosen)
  // The footer's sizes are the rows' own (a list that says otherwise is not used for the order).
  if (!source.file || chosen.some((p) => rows.get(p.cid)?.dag_size_bytes !== sizeOf.get(p.cid))) return null
  return { listing: { ...listing, shown: chosen.length }, pins: chosen.map((p) => sized(p, rows.get(p.cid))) }
}
