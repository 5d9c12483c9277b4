// The content collector: finds out what each pinned CID is and writes content.parquet. A DAG
// never changes, so a CID is examined once (an incomplete one again after a while); each cycle
// works through the CIDs not yet known for at most `budgetMs`, newest pins first, so a million
// pins (or a terabyte pin) fill in over time without holding up the index. Everything is asked
// of Kubo offline (content/examine.ts): `dag stat` (size and blocks, many roots a call; a batch
// that fails is split); each root block from Kubo's block files when its repository is here and
// keeps them in flatfs (content.block_files; each checked against its CID's hash), else through
// the RPC API (small one-block files many to a `cat`, other roots by `block/get`); decoded with
// @ipld/dag-pb and ipfs-unixfs, and the MIME type of a file's first bytes (file-type and a text
// check).

import { statSync } from 'node:fs'
import { BATCH, examineCids } from '../content/examine.js'
import { IndexRejectedError } from '../errors.js'
import { type BlockFiles, openBlockFiles } from '../kubo/flatfs.js'
import type { Logger } from '../manager/log.js'
import { allContent, openContent } from '../store/content.js'
import { CONTENT_META, CONTENT_SCHEMA_VERSION, type ContentRow } from '../store/content-format.js'
import { writeContentFile } from '../store/content-writer.js'
import { contentPath } from '../store/layout.js'
import { ChunkedList, ShardedMap, ShardedSet } from './big.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'
import { PACE_EVERY, pacer, sortedInTurns } from './pace.js'

/** The pinset as the pin collector last listed it: CIDs in order, and its digest. */
export interface PinsetSnapshot {
  cycle: number
  /** When that listing began (ms): a CID examined after it (a pin added through ipfs-kit since) may be missing from it. */
  listedAt: number
  cids: readonly string[]
  /** The direct pins among them. */
  direct: ReadonlySet<string>
  digest: string
  /** The CIDs first seen in the last day (pins.parquet's recent pins), or null when there are too many to list. */
  recent: readonly string[] | null
}

/** Bytes of the union of all pinned DAGs, or why it is not known. */
export type PinnedUnion =
  | { pinned_bytes: number; shared_bytes: number; pinset: string; at: string }
  | { reason: string; pinset: string | null }

/** CIDs handed to the examiner at a time: several of its batches, so that it keeps them going at once. */
const CHUNK = BATCH * 16

/** The union is taken with one `dag stat` of every root: up to this many roots (a query string under 1 MB). */
const UNION_MAX_ROOTS = 10_000

export interface ContentCollectorOptions {
  kitPath: string
  writer: string
  pinset: () => PinsetSnapshot | null
  log: Logger
  /** Time one cycle may spend examining (content.budget_ms). */
  budgetMs: number
  /** The longest one `dag stat` may take; a DAG that takes longer gets a reason, not a hang. */
  dagTimeoutMs?: number
  /** An incomplete or unfinished DAG is looked at again after this long. */
  retryAfterMs?: number
  /**
   * Kubo's repository, to read root blocks from its flatfs folder (kubo/flatfs.ts) when
   * `blockFiles()` says so (content.block_files); without it every block is read through Kubo.
   */
  ipfsPath?: string
  blockFiles?: () => boolean
}

/** Where root blocks are read: Kubo's block files (their folder), or Kubo's RPC API and why. */
export type RootBlocks = { from: 'files'; folder: string } | { from: 'kubo'; reason: string }

export interface ContentProgress {
  examined: number
  total: number
  /** CIDs examined per second over the last runs that examined any; null before the first. */
  rate_per_s: number | null
  /**
   * Seconds until every pin is examined, at the pace of the last runs: the pins they examined
   * over the wall time from the first of them to the last (a cycle examines for at most
   * content.budget_ms, so this is far slower than rate_per_s). After a single run, from
   * rate_per_s, as if examination never paused.
   */
  eta_s: number | null
  incomplete: number
  root_blocks: RootBlocks
}

export type ContentCollector = Collector & {
  progress(): ContentProgress | null
  /**
   * What content.parquet holds, as this collector last wrote it (null before it loaded the
   * file); `version` grows with every write, so that a reader can keep what it derived.
   */
  known(): { rows: ReadonlyMap<string, ContentRow>; version: number } | null
  examineNow(ctx: Omit<CollectContext, 'cycle'>, cids: string[]): Promise<number>
}

export function contentCollector(options: ContentCollectorOptions): ContentCollector {
  const dagTimeoutMs = options.dagTimeoutMs ?? 60_000
  const retryAfterMs = options.retryAfterMs ?? 10 * 60_000
  /** What is known, by CID: loaded from content.parquet on the first run, kept in memory after. */
  let rows: ShardedMap<ContentRow> | null = null
  let fileDigest: string | null = null
  let union: PinnedUnion | null = null
  /** The file this collector last wrote (or loaded): any other file at the path is rewritten. */
  let written: string | null = null
  const identity = () => {
    try {
      const st = statSync(contentPath(options.kitPath))
      return `${st.ino}:${st.size}:${st.mtimeMs}`
    } catch {
      return null
    }
  }
  let progress: ContentProgress | null = null
  let version = 0
  /** The listing a run found nothing left to do for, until when, and what it said. */
  let idle: { digest: string; until: number; outcome: CollectorOutcome } | null = null
  const rates: Array<{ n: number; ms: number; at: number }> = []
  /** Kubo's block files for the node of this peer ID, or why not (opened once a node, the choice logged). */
  let files: { peerId: string; opened: BlockFiles | { reason: string } } | null = null
  const rootBlocks = (): RootBlocks => {
    const opened = files?.opened ?? { reason: 'nothing examined yet' }
    return 'read' in opened
      ? { from: 'files', folder: opened.folder }
      : { from: 'kubo', reason: opened.reason }
  }
  let failuresSaid = 0
  async function blockFiles(peerId: string): Promise<BlockFiles | null> {
    if (files?.peerId !== peerId) {
      files = {
        peerId,
        opened:
          options.blockFiles?.() === false
            ? { reason: 'content.block_files is false' }
            : options.ipfsPath === undefined
              ? { reason: "Kubo's repository is not known" }
              : await openBlockFiles(options.ipfsPath, peerId),
      }
      const said = rootBlocks()
      if (said.from === 'files') options.log.info("reading root blocks from Kubo's block files", said)
      else options.log.info("reading root blocks through Kubo's RPC API", { reason: said.reason })
    }
    const blocks = 'read' in files.opened ? files.opened : null
    // A block file that cannot be read (not one that is missing: that one is asked of Kubo) is
    // said once, with the count so far whenever it grows tenfold.
    const failures = blocks?.failures()
    if (failures && failures.count > 0 && failures.count >= failuresSaid * 10) {
      options.log.warn("some of Kubo's block files cannot be read; those blocks are read through Kubo", {
        count: failures.count,
        first: failures.first,
      })
      failuresSaid = failures.count
    }
    return blocks
  }

  async function load(peerId: string): Promise<ShardedMap<ContentRow>> {
    // Sharded (big.ts): a Map grown to a million rows holds the event loop up when it rehashes.
    const known = new ShardedMap<ContentRow>()
    let file: Awaited<ReturnType<typeof openContent>> = null
    try {
      file = await openContent(options.kitPath, peerId)
      if (file) {
        const pace = pacer()
        for await (const row of allContent(file)) {
          if ((known.size & (PACE_EVERY - 1)) === 0) await pace()
          known.set(row.cid, row)
        }
        fileDigest = file.header.kv[CONTENT_META.pinsetSha256] ?? null
        try {
          union = JSON.parse(file.header.kv[CONTENT_META.union] ?? 'null') as PinnedUnion | null
        } catch {
          union = null
        }
        // A file of the version before is read, and rewritten in this one at the next cycle.
        written = file.header.schemaVersion === CONTENT_SCHEMA_VERSION ? identity() : null
      }
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      options.log.warn('content.parquet is not usable; examining every pin again', { reason: err.reason })
      known.clear()
      fileDigest = null
    } finally {
      await file?.close()
    }
    return known
  }

  /**
   * The bytes of the union of every pinned DAG (a block shared by many pins counted once), by one
   * `dag stat` of all roots: Kubo walks each block once and reports what is shared. Only where
   * the answer is exact: every pin complete, no direct pins (a direct pin holds its root block
   * only, and which of those blocks also lie in a recursive DAG cannot be told), and few enough
   * roots for one call.
   */
  async function pinnedUnion(
    ctx: CollectContext,
    snapshot: PinsetSnapshot,
    incomplete: number,
  ): Promise<PinnedUnion> {
    const not = (reason: string): PinnedUnion => ({ reason, pinset: snapshot.digest })
    if (snapshot.direct.size > 0)
      return not(
        `the node has ${snapshot.direct.size} direct pins: which of their blocks also lie inside recursive pins cannot be told`,
      )
    if (incomplete > 0)
      return not(`${incomplete} pins are not complete on this node: their DAGs cannot be walked`)
    if (snapshot.cids.length > UNION_MAX_ROOTS)
      return not(`more than ${UNION_MAX_ROOTS} pins: one walk of every DAG is not taken at this size yet`)
    if (snapshot.cids.length === 0)
      return { pinned_bytes: 0, shared_bytes: 0, pinset: snapshot.digest, at: new Date().toISOString() }
    try {
      const r = await ctx.rpc.dagStat(snapshot.cids, {
        offline: true,
        signal: ctx.signal,
        timeoutMs: dagTimeoutMs,
      })
      return {
        pinned_bytes: r.totalSize,
        shared_bytes: r.sharedSize,
        pinset: snapshot.digest,
        at: new Date().toISOString(),
      }
    } catch (err) {
      return not(`dag stat of every pin failed: ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  /** Examines these CIDs into `known` (the first of them only, once `stop` says so); returns how many. */
  async function examine(
    ctx: CollectContext,
    cids: string[],
    known: ShardedMap<ContentRow>,
    stop?: () => boolean,
  ): Promise<number> {
    const blocks = await blockFiles(ctx.peerId)
    const rows = await examineCids(ctx.rpc, cids, { signal: ctx.signal, dagTimeoutMs, stop, blocks })
    for (const row of rows) known.set(row.cid, row)
    return rows.length
  }

  /** Runs one at a time: a cycle's run and an examination asked for by a pin change. */
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work)
    queue = next.catch(() => {})
    return next
  }

  async function write(
    ctx: Omit<CollectContext, 'signal' | 'cycle'>,
    known: ShardedMap<ContentRow>,
    digest: string | null,
  ) {
    // In CID order, sorted in turns (a million rows take a second or more to sort); every array
    // of a million made at its full length, then filled in turns (big.ts: no growing).
    const pace = pacer()
    const all = new Array<ContentRow>(known.size)
    let n = 0
    for (const row of known.values()) {
      if ((n & (PACE_EVERY - 1)) === 0) await pace()
      all[n++] = row
    }
    const sorted = await sortedInTurns(all, (x, y) => (x.cid < y.cid ? -1 : x.cid > y.cid ? 1 : 0), pace)
    // The sizes of the last day's pins, from the rows written (storage report reads them here).
    const recent = options.pinset()?.recent
    const sizes: Record<string, number | null> = {}
    for (const cid of recent ?? []) {
      const row = known.get(cid)
      if (row) sizes[cid] = row.dag_size_bytes
    }
    await writeContentFile(
      options.kitPath,
      { writer: options.writer, peerId: ctx.peerId, kuboVersion: ctx.kuboVersion, generatedAt: new Date() },
      sorted,
      digest,
      {
        ...(union ? { [CONTENT_META.union]: JSON.stringify(union) } : {}),
        ...(recent ? { [CONTENT_META.recentSizes]: JSON.stringify(sizes) } : {}),
      },
    )
    written = identity()
    version++
  }

  /**
   * The write asked for by examinations of new pins and not yet begun: the examinations that end
   * before it begins join it. A burst of pin adds (fifty `ipfs-kit pin add` in a row) costs a
   * write or two, not one each: at a million pins a write is seconds of CPU.
   */
  let pendingWrite: Promise<void> | null = null
  function writeSoon(ctx: Omit<CollectContext, 'signal' | 'cycle'>): Promise<void> {
    pendingWrite ??= serial(async () => {
      pendingWrite = null
      if (rows) await write(ctx, rows, fileDigest)
    })
    return pendingWrite
  }

  return {
    name: 'content',
    // Its time is content.budget_ms's to bound, not the interval's stretch rule's (loop.ts).
    budgeted: true,
    progress: () => progress,
    known: () => (rows ? { rows, version } : null),
    /**
     * Examines these CIDs now (new pins made through ipfs-kit: seconds, not a cycle, until
     * `pin list` shows their size) and writes the file.
     */
    examineNow: async (ctx: Omit<CollectContext, 'cycle'>, cids: string[]) => {
      const examined = await serial(async () => {
        rows ??= await load(ctx.peerId)
        const todo = [...new Set(cids)].filter((c) => rows?.get(c)?.complete !== true)
        await examine({ ...ctx, cycle: 0 }, todo, rows)
        return todo.length
      })
      if (examined > 0) await writeSoon(ctx)
      return examined
    },
    run: (ctx) => serial(() => runCycle(ctx)),
  }

  async function runCycle(ctx: CollectContext): Promise<CollectorOutcome> {
    const snapshot = options.pinset()
    if (!snapshot) throw new Error('the pin collector has not listed the pins yet')
    rows ??= await load(ctx.peerId)
    const known = rows
    const t0 = performance.now()
    const now = Date.now()
    // A file other than the one this collector wrote (planted, damaged, removed) is rewritten.
    let changed = fileDigest !== snapshot.digest || written === null || identity() !== written
    // Nothing to do since the last run (the same listing, no retry due, the file ours): the
    // whole pinset is not walked again (at a million pins that walk is most of an idle cycle).
    if (!changed && idle?.digest === snapshot.digest && now < idle.until) return idle.outcome
    // At a million pins each pass over the pinset is a good part of a second: in turns (pace.ts).
    const pace = pacer()
    const pinned = new ShardedSet()
    for (let i = 0; i < snapshot.cids.length; i++) {
      if ((i & (PACE_EVERY - 1)) === 0) await pace()
      pinned.add(snapshot.cids[i] as string)
    }
    let seen = 0
    for (const [cid, row] of known) {
      if ((++seen & (PACE_EVERY - 1)) === 0) await pace()
      // A row examined after the listing began is of a pin added since (through ipfs-kit): kept.
      if (!pinned.has(cid) && row.examined_at.getTime() < snapshot.listedAt) {
        known.delete(cid)
        changed = true
      }
    }
    // Never examined first (newest CIDs are not known here: CID order), then the retries.
    const fresh = new ChunkedList<string>()
    const retry = new ChunkedList<string>()
    for (let i = 0; i < snapshot.cids.length; i++) {
      if ((i & (PACE_EVERY - 1)) === 0) await pace()
      const c = snapshot.cids[i] as string
      const r = known.get(c)
      if (r === undefined) fresh.push(c)
      else if (r.complete !== true && now - r.examined_at.getTime() > retryAfterMs) retry.push(c)
    }
    const todo = fresh.length + retry.length
    const todoAt = (k: number) => (k < fresh.length ? fresh.at(k) : retry.at(k - fresh.length))
    // In chunks of a few thousand (no list of a million made at once), batches begun until the
    // budget is spent.
    let examined = 0
    const spentBudget = () => performance.now() - t0 >= options.budgetMs
    while (examined < todo && !spentBudget()) {
      const chunk: string[] = []
      for (let k = examined; k < Math.min(todo, examined + CHUNK); k++) chunk.push(todoAt(k))
      const n = await examine(ctx, chunk, known, spentBudget)
      examined += n
      if (n > 0) changed = true
      if (n < chunk.length) break
    }
    const spent = performance.now() - t0
    if (examined > 0) {
      rates.push({ n: examined, ms: spent, at: Date.now() - spent })
      if (rates.length > 20) rates.shift()
    }
    const sum = rates.reduce((a, r) => ({ n: a.n + r.n, ms: a.ms + r.ms }), { n: 0, ms: 0 })
    const rate = sum.ms > 0 ? (sum.n / sum.ms) * 1000 : null
    // Per wall-clock second: what the runs before the last examined, over the time from the
    // first run's start to the last one's.
    const first = rates[0]
    const last = rates[rates.length - 1]
    const paceMs = first && last ? last.at - first.at : 0
    const wallRate = rates.length >= 2 && paceMs > 0 ? ((sum.n - (last?.n ?? 0)) / paceMs) * 1000 : null
    const speed = wallRate ?? rate
    let left = 0
    for (let i = 0; i < snapshot.cids.length; i++) {
      if ((i & (PACE_EVERY - 1)) === 0) await pace()
      if (!known.has(snapshot.cids[i] as string)) left++
    }
    let incomplete = 0
    for (const r of known.values()) if (r.complete !== true) incomplete++
    progress = {
      examined: known.size,
      total: snapshot.cids.length,
      rate_per_s: rate === null ? null : Math.round(rate * 10) / 10,
      eta_s: left === 0 ? 0 : speed ? Math.round(left / speed) : null,
      incomplete,
      root_blocks: rootBlocks(),
    }
    if (left === 0 && union?.pinset !== snapshot.digest) {
      union = await pinnedUnion(ctx, snapshot, incomplete)
      changed = true
    }
    if (changed) {
      await write(ctx, known, snapshot.digest)
      fileDigest = snapshot.digest
    }
    const outcome = {
      wrote: changed,
      rows: known.size,
      detail: `${known.size} of ${snapshot.cids.length} pins examined (${examined} this cycle, ${incomplete} incomplete)`,
    }
    // All done for this listing: the next run that finds it again has nothing to do until the
    // first incomplete DAG is due for another look.
    if (left === 0 && todo === examined) {
      let until = Number.POSITIVE_INFINITY
      for (const r of known.values())
        if (r.complete !== true) until = Math.min(until, r.examined_at.getTime() + retryAfterMs)
      idle = { digest: snapshot.digest, until, outcome: { ...outcome, wrote: false } }
    } else idle = null
    return outcome
  }
}
