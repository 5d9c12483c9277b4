// What `storage report` says, gathered from the index: the repository's size and limit (the
// storage state), what the pins hold (content.parquet's footer: the union of all pinned DAGs,
// the largest pins, the incomplete ones) and the pins' names (pins.parquet, by page lookups).
// Every figure is the node's or null with the reason; nothing is estimated.
import { IndexRejectedError } from '../errors.js'
import { readRepoConfig } from '../kubo/repo.js'
import { largestOf, openContent } from '../store/content.js'
import { CONTENT_META, type ContentKind } from '../store/content-format.js'
import { indexFilePath } from '../store/layout.js'
import { queryPinFile } from '../store/pins.js'
import { openIndexFile } from '../store/reader.js'
import { readStateFile } from '../store/state.js'

export interface StorageReport {
  source: 'index' | null
  /** When the storage state and content.parquet were written. */
  storage_as_of: string | null
  content_as_of: string | null
  repo_size_bytes: number | null
  storage_max_bytes: number | null
  /** Bytes of the union of all pinned DAGs (a block shared by several pins counted once). */
  pinned_bytes: number | null
  /** Bytes that more than one pin holds (counted once in pinned_bytes, more often in the sum of pin sizes). */
  shared_bytes: number | null
  /** What `repo gc` could free. */
  unpinned_bytes: number | null
  pins: number | null
  pins_examined: number | null
  largest: Array<{ cid: string; size: number; kind: ContentKind | null; name: string | null }>
  incomplete_pins: number | null
  incomplete: Array<{ cid: string; problem: string | null }>
  /** The least-squares slope of the repository size over the last day (bytes a day). */
  growth_bytes_per_day: number | null
  /** The same over the last week (bytes a week). */
  growth_bytes_per_week: number | null
  /** Days until the repository reaches StorageMax at the weekly rate (the daily one while there is no week). */
  days_until_full: number | null
  growth_basis: { rows: number; from: string | null; to: string | null } | null
  pins_added_last_day: number | null
  pins_added_last_day_bytes: number | null
  /** Why each null figure is null. */
  reasons: Record<string, string>
  problems: string[]
}

export async function storageReport(kitPath: string, ipfsPath: string): Promise<StorageReport> {
  const report: StorageReport = {
    source: null,
    storage_as_of: null,
    content_as_of: null,
    repo_size_bytes: null,
    storage_max_bytes: null,
    pinned_bytes: null,
    shared_bytes: null,
    unpinned_bytes: null,
    pins: null,
    pins_examined: null,
    largest: [],
    incomplete_pins: null,
    incomplete: [],
    growth_bytes_per_day: null,
    growth_bytes_per_week: null,
    days_until_full: null,
    growth_basis: null,
    pins_added_last_day: null,
    pins_added_last_day_bytes: null,
    reasons: {},
    problems: [],
  }
  const r = report.reasons
  r.unpinned_bytes =
    'not measured: the repository size includes the datastore itself and MFS (which repo gc keeps), so repo size minus pinned bytes would not be what gc frees'
  const repo = await readRepoConfig(ipfsPath).catch(() => null)
  if (!repo) {
    report.problems.push(`there is no readable Kubo repository at ${ipfsPath} to check the index against`)
    return report
  }
  try {
    const storage = await readStateFile(indexFilePath(kitPath, 'storage'), 'storage', repo.peerId)
    const row = storage.rows[0] ?? {}
    report.source = 'index'
    report.storage_as_of = storage.header.generatedAt.toISOString()
    report.repo_size_bytes = typeof row.repo_size_bytes === 'number' ? row.repo_size_bytes : null
    report.storage_max_bytes = typeof row.storage_max_bytes === 'number' ? row.storage_max_bytes : null
    for (const k of ['repo_size_bytes', 'storage_max_bytes'] as const)
      if (report[k] === null) r[k] = storage.nullReasons[k] ?? 'not in the storage state'
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
    report.problems.push(`storage_state.parquet ${err.reason}`)
    r.repo_size_bytes = `storage_state.parquet ${err.reason}`
    r.storage_max_bytes = r.repo_size_bytes
  }
  // Each file opened once: the largest pins and the pins of the last day read the same ones.
  let pinsRefused: string | null = null
  const pins = await openIndexFile(indexFilePath(kitPath, 'pins'), 'pins', repo.peerId).catch(
    (err: unknown) => {
      if (!(err instanceof IndexRejectedError)) throw err
      pinsRefused = err.reason
      return null
    },
  )
  let content: Awaited<ReturnType<typeof openContent>> = null
  let contentRefused: string | null = null
  try {
    try {
      content = await openContent(kitPath, repo.peerId)
      if (!content) {
        const why = 'content.parquet is not written yet (the daemon examines pins in the background)'
        for (const k of ['pinned_bytes', 'shared_bytes', 'pins_examined', 'incomplete_pins']) r[k] = why
      } else {
        const kv = content.header.kv
        report.source = 'index'
        report.content_as_of = content.header.generatedAt.toISOString()
        report.pins_examined = content.header.rowCount
        const incomplete = Number(kv[CONTENT_META.incomplete])
        report.incomplete_pins = Number.isSafeInteger(incomplete) && incomplete >= 0 ? incomplete : null
        const json = <T>(key: string): T | null => {
          try {
            return JSON.parse(kv[key] ?? 'null') as T
          } catch {
            throw new IndexRejectedError(content?.path ?? '', `its ${key} is not valid JSON`)
          }
        }
        const union = json<{ pinned_bytes?: unknown; shared_bytes?: unknown; reason?: unknown }>(
          CONTENT_META.union,
        )
        const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null)
        if (union && count(union.pinned_bytes) !== null && count(union.shared_bytes) !== null) {
          report.pinned_bytes = count(union.pinned_bytes)
          report.shared_bytes = count(union.shared_bytes)
        } else {
          r.pinned_bytes =
            typeof union?.reason === 'string'
              ? union.reason
              : 'not taken yet: every pin must be examined first'
          r.shared_bytes = r.pinned_bytes
        }
        const checked = await largestOf(content)
        report.incomplete = (
          json<Array<{ cid?: unknown; problem?: unknown }>>(CONTENT_META.incompleteSample) ?? []
        ).flatMap((e) =>
          typeof e?.cid === 'string'
            ? [{ cid: e.cid, problem: typeof e.problem === 'string' ? e.problem : null }]
            : [],
        )
        // Names, and that they are still pinned, from pins.parquet.
        if (pinsRefused !== null)
          report.problems.push(`pins.parquet ${pinsRefused}; the largest pins are shown without names`)
        const names = new Map<string, string | null>()
        if (pins) {
          report.pins = pins.header.rowCount
          if (checked.length > 0)
            for await (const p of queryPinFile(pins, { cids: checked.map((c) => c.cid) }))
              names.set(p.cid, p.name)
        }
        report.largest = checked
          .filter((c) => !pins || names.has(c.cid))
          .map((c) => ({ ...c, name: names.get(c.cid) ?? null }))
      }
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      contentRefused = err.reason
      report.problems.push(`content.parquet ${err.reason}`)
      for (const k of ['pinned_bytes', 'shared_bytes', 'pins_examined', 'incomplete_pins'])
        r[k] = `content.parquet ${err.reason}`
      report.largest = []
      report.incomplete = []
    }
    // Growth from the storage history, and the pins of the last day from the pin events.
    const { growthOf, recentPins } = await import('./growth.js')
    const growth = await growthOf(kitPath, repo.peerId, {
      repoSize: report.repo_size_bytes,
      storageMax: report.storage_max_bytes,
    })
    report.growth_bytes_per_day = growth.growth_bytes_per_day
    report.growth_bytes_per_week = growth.growth_bytes_per_week
    report.days_until_full = growth.days_until_full
    report.growth_basis = growth.growth_basis
    Object.assign(r, growth.reasons)
    for (const x of growth.refused) report.problems.push(`storage history ${x.path} ${x.reason}`)
    try {
      // content.parquet only once its checks above passed.
      const examined = contentRefused === null ? content : null
      const recent = await recentPins(kitPath, repo.peerId, pins, examined)
      report.pins_added_last_day = recent.pins_added_last_day
      report.pins_added_last_day_bytes = recent.pins_added_last_day_bytes
      Object.assign(r, recent.reasons)
      if (contentRefused !== null && report.pins_added_last_day)
        r.pins_added_last_day_bytes = `content.parquet ${contentRefused}`
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      r.pins_added_last_day = `${err.reason}`
      r.pins_added_last_day_bytes = r.pins_added_last_day
    }
  } finally {
    await pins?.close()
    await content?.close()
  }
  return report
}
