// `pin list` as a library: answer from pins.parquet when it passes DESIGN.md's trust rules,
// and otherwise the same query from Kubo's RPC API (read-only), saying why. Reports how fresh
// the answer is: the file's generation time, and when the manager last confirmed it unchanged.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { type IpfsKitConfig, loadConfig } from '../config/config.js'
import { ipfsKitPath, ipfsRepoPath } from '../config/paths.js'
import {
  IndexBrokeMidStreamError,
  IndexMissingError,
  IndexRejectedError,
  KuboRpcError,
  PinSourceUnavailableError,
} from '../errors.js'
import { readRepoConfig } from '../kubo/repo.js'
import { indexFilePath, PINS_META, type PinSubsetKind, pinsCheckedPath } from '../store/layout.js'
import { countsWithPending, type DeltaEntry, pendingOf, pinOf, readPinDelta } from '../store/pin-delta.js'
import {
  matchesPin,
  openPinSubset,
  openRecentPins,
  type PinQuery,
  type PinRow,
  queryPinFile,
} from '../store/pins.js'
import { type OpenIndexFile, openIndexFile } from '../store/reader.js'

export interface PinListing {
  source: 'index' | 'api'
  /** When pins.parquet was written (index) or null (api). */
  generated_at: string | null
  /** When the manager last confirmed the index still matches the node. */
  checked_at: string | null
  /** Older than three index intervals. */
  stale: boolean
  /** Why the index was not used, when source is api. */
  index_rejected: string | null
  /** How many pins match in all, when known without reading everything. */
  total: number | null
  /** How many were printed. */
  shown: number
}

export interface ListOptions {
  query: PinQuery
  /** 0 = all. */
  limit: number
  /** Called for each pin in order; a promise it returns is waited for before the next pin. */
  onPin: (pin: PinRow) => undefined | Promise<void>
  /**
   * Hand pins out while the index is being read (for --ndjson). Otherwise the pins from the
   * index are handed out only once the whole query passed, so a file rejected half-way still
   * falls back to Kubo with nothing printed twice.
   */
  stream?: boolean
  /** Called once when the index is not used, with the reason. */
  onIndexRejected?: (reason: string) => void
  config?: IpfsKitConfig
  /**
   * `--since`: when the pin events can say which pins were first seen since then (since.ts),
   * only those CIDs are looked up (in the pins.parquet this query opened, read once); otherwise
   * every pin is read and the caller filters on first_seen.
   */
  sinceEvents?: { since: Date; retentionMs: number }
  /**
   * The query whose total to report, when `query` looks up some CIDs on behalf of a broader one
   * (`pin list --sort size --limit n` looks up the largest pins, and reports how many pins there are).
   */
  totalOf?: PinQuery
  /**
   * Answer from the index or not at all: where it cannot be used, return a listing of source
   * `api` with nothing handed out, Kubo not asked, and onIndexRejected not called.
   */
  indexOnly?: boolean
}

/**
 * When the manager last confirmed the file still matches the node, and the interval it indexes
 * at (which a `daemon start --interval` may have set for that run only), from its side note.
 */
async function freshness(
  kitPath: string,
  file: OpenIndexFile,
): Promise<{ checkedAt: string | null; intervalS: number | null }> {
  try {
    const checked = JSON.parse(readFileSync(pinsCheckedPath(kitPath), 'utf8')) as {
      peer_id?: string
      pinset_sha256?: string
      checked_at?: string
      interval_s?: unknown
    }
    if (
      checked.peer_id === file.header.peerId &&
      checked.pinset_sha256 === file.header.kv[PINS_META.pinsetSha256] &&
      typeof checked.checked_at === 'string' &&
      !Number.isNaN(Date.parse(checked.checked_at))
    ) {
      const interval = checked.interval_s
      return {
        checkedAt: checked.checked_at,
        intervalS:
          typeof interval === 'number' && Number.isFinite(interval) && interval > 0 ? interval : null,
      }
    }
  } catch {
    // no note: the file's own time is all we know
  }
  return { checkedAt: null, intervalS: null }
}

const byCid = (a: PinRow, b: PinRow) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0)

/**
 * The rows of pins.parquet (or of a subset of it) that match, with the pending changes of the
 * delta applied: a row whose CID changed since is replaced by what Kubo said after the change (or
 * dropped), in order. What each changed CID was before is asked of pins.parquet (`base`): a pin
 * outside the subset keeps its first_seen too.
 */
async function* withPending(
  file: OpenIndexFile,
  base: OpenIndexFile,
  q: PinQuery,
  limit: number,
  pending: Map<string, DeltaEntry>,
): AsyncGenerator<PinRow> {
  if (pending.size === 0) {
    yield* queryPinFile(file, q, { limit })
    return
  }
  // What the file holds for the changed CIDs: a pin that was there before keeps its first_seen.
  const before = new Map<string, PinRow>()
  for await (const row of queryPinFile(base, { cids: [...pending.keys()] })) before.set(row.cid, row)
  const adds = [...pending.values()]
    .map((e) => pinOf(e, before.get(e.cid)))
    .filter((p): p is PinRow => p !== null && matchesPin(p, q))
    .sort(byCid)
  let k = 0
  // Rows replaced by a change are skipped: read that many more.
  for await (const row of queryPinFile(file, q, { limit: limit > 0 ? limit + pending.size + 1 : 0 })) {
    while (k < adds.length && (adds[k] as PinRow).cid < row.cid) yield adds[k++] as PinRow
    if (!pending.has(row.cid)) yield row
  }
  while (k < adds.length) yield adds[k++] as PinRow
}

/**
 * How many pins match in all, from the file's counts with the pending changes applied: known
 * for a listing of all pins or of one type, not for a name or CID filter (null).
 */
async function totalWithPending(
  file: OpenIndexFile,
  q: PinQuery,
  pending: Map<string, DeltaEntry>,
): Promise<number | null> {
  if (q.cids !== undefined || q.name !== undefined) return null
  const counts = await countsWithPending(file, pending)
  if (!counts) return q.type === undefined && pending.size === 0 ? file.header.rowCount : null
  return q.type === undefined ? counts.recursive + counts.direct : counts[q.type]
}

export async function listPins(options: ListOptions): Promise<PinListing> {
  const config = options.config ?? (await loadConfig())
  const kitPath = ipfsKitPath()
  const ipfsPath = ipfsRepoPath()
  const { limit } = options
  let query = options.query
  const intervalS = Number(config.settings['index.interval_s'].value)

  let rejected: string
  const repo = await readRepoConfig(ipfsPath).catch((err: Error) => {
    rejected = `the repository at ${ipfsPath} cannot be read (${err.message}), so the index cannot be checked`
    return null
  })
  if (repo) {
    let shown = 0
    let streamed = 0
    const held: PinRow[] = []
    let file: OpenIndexFile | null = null
    let subset: OpenIndexFile | null = null
    try {
      // The delta before pins.parquet: the manager drops delta entries only after the
      // pins.parquet that holds them is in place, so this order never misses a change.
      const delta = await readPinDelta(kitPath, repo.peerId)
      file = await openIndexFile(indexFilePath(kitPath, 'pins'), 'pins', repo.peerId)
      const pending = pendingOf(file, delta)
      // --since: the pins first seen in the last week have a file of their own (pins_recent.parquet),
      // read whole when it covers the time; else the CIDs of the pin events since then are looked up.
      let recentOnly = false
      if (options.sinceEvents && query.cids === undefined) {
        const { since, retentionMs } = options.sinceEvents
        // It holds no pin of the baseline (first seen before ipfs-kit indexed the node): a time
        // at or before the baseline is answered by reading every pin, as addedSince says.
        const baselineAt = Date.parse(file.header.kv[PINS_META.baselineAt] ?? '')
        if (since.getTime() > baselineAt) subset = await openRecentPins(kitPath, file, since.getTime())
        recentOnly = subset !== null
        if (!subset) {
          const { addedSince } = await import('./since.js')
          const fast = await addedSince(file, kitPath, repo.peerId, since, retentionMs)
          if ('cids' in fast) query = { ...query, cids: fast.cids.sort() }
        }
      }
      // A name or a direct-pin query reads the small file of those pins, when there is one of
      // this pinset (a CID lookup is cheaper in pins.parquet, by its page index).
      const subsetKind: PinSubsetKind | null =
        subset !== null || query.cids !== undefined
          ? null
          : query.name !== undefined
            ? 'pins_named'
            : query.type === 'direct'
              ? 'pins_direct'
              : null
      if (subsetKind) subset = await openPinSubset(kitPath, file, subsetKind)
      let exhausted = true
      for await (const pin of withPending(subset ?? file, file, query, limit, pending)) {
        if (limit > 0 && shown >= limit) {
          exhausted = false
          break
        }
        if (options.stream) {
          const wait = options.onPin(pin)
          if (wait) await wait
          streamed++
        } else held.push(pin)
        shown++
      }
      for (const pin of held) options.onPin(pin)
      const fresh = await freshness(kitPath, file)
      const checkedAt = fresh.checkedAt ?? file.header.generatedAt.toISOString()
      const staleAfterS = 3 * (fresh.intervalS ?? intervalS)
      return {
        source: 'index',
        generated_at: file.header.generatedAt.toISOString(),
        checked_at: checkedAt,
        stale: Date.now() - Date.parse(checkedAt) > staleAfterS * 1000,
        index_rejected: null,
        total: options.totalOf
          ? await totalWithPending(file, options.totalOf, pending)
          : ((recentOnly ? null : await totalWithPending(file, query, pending)) ??
            (exhausted ? shown : null)),
        shown,
      }
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      if (streamed > 0) {
        throw new IndexBrokeMidStreamError(
          `the index was rejected after ${streamed} pins were printed (${err.reason}); the output above is incomplete`,
          {
            hint: 'run the command again: it will answer from Kubo, or from the index once the daemon rewrites it',
          },
        )
      }
      const which = basename(err.file)
      rejected = err instanceof IndexMissingError ? `${which} does not exist yet` : `${which} ${err.reason}`
    } finally {
      await subset?.close()
      await file?.close()
    }
  } else {
    rejected ??= `there is no Kubo repository at ${ipfsPath} to check the index against`
  }
  if (options.indexOnly) {
    const none = { generated_at: null, checked_at: null, stale: false, total: null, shown: 0 }
    return { source: 'api', index_rejected: rejected, ...none }
  }
  options.onIndexRejected?.(rejected)
  return listFromApi(config, ipfsPath, options, rejected)
}

async function listFromApi(
  config: IpfsKitConfig,
  ipfsPath: string,
  options: ListOptions,
  rejected: string,
): Promise<PinListing> {
  const { query, limit } = options
  let pins: PinRow[] = []
  try {
    // The RPC client is only needed when the index cannot answer.
    const { connectKubo } = await import('../kubo/connect.js')
    const rpc = await connectKubo(config, ipfsPath)
    if (query.cids !== undefined) {
      try {
        for await (const p of rpc.pinLs({ type: 'all', names: true, cid: query.cids[0] })) {
          if (p.type === 'recursive' || p.type === 'direct')
            pins.push({ cid: p.cid, type: p.type, name: p.name, first_seen: null, first_seen_exact: null })
        }
      } catch (err) {
        // Kubo answers a CID that is not pinned with an error; for a listing that is no pins.
        if (!(err instanceof KuboRpcError && /is not pinned/.test(err.kuboMessage))) throw err
      }
    } else {
      for (const type of query.type ? [query.type] : (['recursive', 'direct'] as const)) {
        for await (const p of rpc.pinLs({ type, names: true }))
          pins.push({ cid: p.cid, type, name: p.name, first_seen: null, first_seen_exact: null })
      }
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new PinSourceUnavailableError(
      `cannot list pins: the index is not usable (${rejected}) and Kubo's RPC API is not either (${why})`,
      {
        hint: 'start the daemon with `ipfs-kit daemon start`; it runs Kubo and writes the index',
      },
    )
  }
  pins = pins
    .filter((p) => matchesPin(p, { ...query, cids: undefined }))
    .sort((a, b) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0))
  const shown = limit > 0 ? Math.min(limit, pins.length) : pins.length
  for (let i = 0; i < shown; i++) {
    const wait = options.onPin(pins[i] as PinRow)
    if (wait) await wait
  }
  return {
    source: 'api',
    generated_at: null,
    checked_at: null,
    stale: false,
    index_rejected: rejected,
    total: pins.length,
    shown,
  }
}
