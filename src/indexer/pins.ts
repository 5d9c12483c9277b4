// The pin collector: streams the node's pinset (`pin/ls` recursive, then direct: never `all` or
// `indirect`, which walk every DAG), sorts it by CID, and writes pins.parquet atomically, unless
// the pinset is the same as in the file already there.
//
// Names cost most of a listing (Kubo lists a million pins in 29 s without them, 82 s with), and
// change without the CIDs changing only when a pin already there is pinned again with another
// name (tested on Kubo 0.43.1: `ipfs pin add --name=b <cid>` renames it, a plain `ipfs pin add
// <cid>` clears it). So a cycle lists CIDs only and keeps the names it knows (the last listing,
// and the changes through ipfs-kit, which carry Kubo's answer), asking Kubo for the names of the
// few pins that are new; every `index.names_every_s`, and whenever a cycle is asked for (`index
// refresh`), it lists with names, so a rename made outside ipfs-kit shows within that time.

import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { IndexRejectedError, KuboRpcError } from '../errors.js'
import type { DatastoreWatch } from '../kubo/datastore-watch.js'
import { writeJsonAtomic } from '../store/atomic.js'
import { verifyAllGroups } from '../store/integrity.js'
import {
  indexFilePath,
  PIN_SUBSETS,
  PINS_META,
  type PinSubsetKind,
  pinSubsetPath,
  pinsCheckedPath,
  RECENT_PINS_KEPT,
  RECENT_PINS_WINDOW_MS,
  RECENT_SUBSET_MIN_ROWS,
  RECENT_SUBSET_WINDOW_MS,
  type RecentPinsMeta,
} from '../store/layout.js'
import {
  PINS_SCHEMA_VERSION,
  PINS_SUBSET_SCHEMA_VERSION,
  PINS_WRITE_OPTIONS,
  pinsColumns,
  SUBSET_MAX_SHARE,
} from '../store/pins-format.js'
import { openIndexFile } from '../store/reader.js'
import { type RowSource, writeIndexFileAtomic } from '../store/writer.js'
import { ChunkedList } from './big.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'
import { fillInTurns, PACE_EVERY, pacer, sortInTurns } from './pace.js'
import type { PinDeltaLog } from './pin-delta-log.js'
import type { PinHistory } from './pin-history.js'
import { procStat } from './state.js'

const PINSET_HASH_KEY = PINS_META.pinsetSha256
const COUNT_RECURSIVE_KEY = PINS_META.countRecursive
const COUNT_DIRECT_KEY = PINS_META.countDirect

export interface PinCollectorOptions {
  kitPath: string
  writer: string
  /** Called with the counts per type and the cycle's number once Kubo has listed every pin (for the storage state). */
  onCounts?: (counts: { recursive: number; direct: number }, cycle: number) => void
  /** Called with the pinset in CID order once Kubo has listed it (for the content collector). */
  onPinset?: (pinset: {
    cycle: number
    listedAt: number
    cids: string[]
    direct: Set<string>
    digest: string
    /** The CIDs first seen (exactly) in the last day, or null past RECENT_PINS_KEPT (PINS_META.recentPins). */
    recent: readonly string[] | null
  }) => void
  /** The pin changes recorded since the last file; folded in once the new file is in place. */
  deltaLog?: PinDeltaLog
  /** The interval this manager indexes at now (stretched when cycles are long), for readers that judge how stale the index is. */
  intervalS?: () => number
  /** Keeps first_seen and records the pin events; without it every pin is first seen now, not exactly. */
  history?: PinHistory
  /** Milliseconds between two listings with names (index.names_every_s); without it every listing has names. */
  namesEveryMs?: () => number
  /** The datastore's fingerprint: a cycle that finds it as the last listing left it does not list again. */
  watch?: DatastoreWatch
  /** Even so, list at least this often (index.max_staleness_s)... */
  maxStalenessMs?: () => number
  /** ...unless a listing costs more than this share of a core (index.idle_share): then every listing's CPU time / share. */
  idleShare?: () => number
  /** The Kubo process, when known: its CPU time counts in what a listing costs. */
  kuboPid?: () => number | null
}

/** CPU time (ms) of this process and of Kubo (when its pid is known), to price a listing. */
async function cpuNow(kuboPid: number | null): Promise<number> {
  const own = process.cpuUsage()
  const kubo = kuboPid === null ? null : await procStat(kuboPid)
  // /proc counts in clock ticks of 10 ms (USER_HZ 100 on Linux).
  return (own.user + own.system) / 1000 + (kubo ? kubo.ticks * 10 : 0)
}

export type PinCollector = Collector & {
  /** Why a cycle should run now (the datastore changed since the last listing), or null. */
  changed(): string | null
  /** What the last listing cost (CPU ms of the manager and Kubo; at least its wall time), or null before one. */
  lastListingMs(): number | null
  /**
   * After a pin change through ipfs-kit, recorded in the delta: the datastore as it is now is the
   * last listing plus the delta, and no reason to list again.
   */
  accountFor(): void
}

/** More new pins than this in a cycle without names: list again with names rather than ask one by one. */
const NAMES_ASKED_MAX = 200

export function pinCollector(options: PinCollectorOptions): PinCollector {
  const path = indexFilePath(options.kitPath, 'pins')
  /** When the last listing with names began (ms), in this manager's run. */
  let namesListedAt: number | null = null
  /** The last complete listing: the datastore as it was when it began, and what it found. */
  let last: {
    fingerprint: string | null
    at: number
    /** CPU time of the listing (manager and Kubo), at least its wall time. */
    ms: number
    counts: { recursive: number; direct: number }
    digest: string
    rows: number
  } | null = null
  /** The datastore's fingerprint after the last change through ipfs-kit (the listing plus the delta), if any since the listing. */
  let accounted: string | null = null
  /**
   * The last look at the datastore found a change no listing or change through ipfs-kit accounts
   * for (a plain `ipfs pin add`, say, waiting out index.busy_share): a change through ipfs-kit
   * now must not take the datastore as it then is for known, or that other change would go
   * unlisted until index.max_staleness_s (far longer at a million pins, under index.idle_share).
   */
  let foreignPending = false
  const known = (fp: string | null) =>
    fp !== null && last !== null && (fp === last.fingerprint || fp === accounted)
  const writeChecked = (ctx: CollectContext, digest: string, by: 'listing' | 'datastore') =>
    writeJsonAtomic(pinsCheckedPath(options.kitPath), {
      peer_id: ctx.peerId,
      pinset_sha256: digest,
      checked_at: new Date().toISOString(),
      checked_by: by,
      ...(options.intervalS ? { interval_s: options.intervalS() } : {}),
    })
  return {
    name: 'pins',
    changed() {
      if (!last || !options.watch) return null
      const fp = options.watch.fingerprint()
      foreignPending = fp !== null && !known(fp)
      return foreignPending ? "a change in Kubo's datastore" : null
    },
    accountFor() {
      if (last && options.watch && !foreignPending) accounted = options.watch.fingerprint()
    },
    lastListingMs: () => last?.ms ?? null,
    async run(ctx: CollectContext): Promise<CollectorOutcome> {
      const startedAt = Date.now()
      const cpuAtStart = await cpuNow(options.kuboPid?.() ?? null)
      // Taken before anything is listed: a change during the listing leaves it different.
      const fingerprint = options.watch?.fingerprint() ?? null
      if (!ctx.asked && last && known(fingerprint)) {
        const forcedAfter = Math.max(options.maxStalenessMs?.() ?? 0, last.ms / (options.idleShare?.() ?? 1))
        if (startedAt - last.at < forcedAfter) {
          // Nothing Kubo keeps its pins in has changed since the last listing (but the changes
          // through ipfs-kit, which the delta holds): the pinset is that one.
          options.onCounts?.(last.counts, ctx.cycle)
          await writeChecked(ctx, last.digest, 'datastore')
          return {
            wrote: false,
            rows: last.rows,
            detail: `not listed: Kubo's datastore is as the listing of ${new Date(last.at).toISOString()} left it; listed again by ${new Date(last.at + forcedAfter).toISOString()} at the latest`,
          }
        }
      }
      // Every change recorded up to this number was confirmed by Kubo before the stream begins.
      const deltaSeq = (await options.deltaLog?.snapshot(ctx.peerId)) ?? 0
      const namesDue =
        !options.history ||
        !options.namesEveryMs ||
        ctx.asked === true ||
        namesListedAt === null ||
        startedAt - namesListedAt >= options.namesEveryMs()
      // Listing, sorting, hashing and diffing a million pins are seconds of CPU: done in turns, so
      // that the manager's event loop answers meanwhile (pace.ts).
      const pace = pacer()
      // Columns, not row objects: a million pins are a million strings and little else. In
      // pieces (big.ts): an array grown to a million by push holds the event loop up when it grows.
      let cids = new ChunkedList<string>()
      let recursiveFlags = new ChunkedList<boolean>()
      let names = new ChunkedList<string | null>()
      const list = async (withNames: boolean) => {
        cids = new ChunkedList()
        recursiveFlags = new ChunkedList()
        names = new ChunkedList()
        for (const type of ['recursive', 'direct'] as const) {
          for await (const pin of ctx.rpc.pinLs({ type, names: withNames }, { signal: ctx.signal })) {
            // What the stream has buffered is handed out without a turn of the event loop.
            if ((cids.length & (PACE_EVERY - 1)) === 0) await pace()
            cids.push(pin.cid)
            recursiveFlags.push(type === 'recursive')
            names.push(pin.name ?? null)
          }
        }
      }
      await list(namesDue)
      const typeOf = (i: number) => (recursiveFlags.at(i) ? 'recursive' : 'direct')
      const sortOrder = () => {
        const order = new Uint32Array(cids.length)
        for (let i = 0; i < order.length; i++) order[i] = i
        return sortInTurns(
          order,
          (a, b) => {
            const x = cids.at(a)
            const y = cids.at(b)
            return x < y ? -1 : x > y ? 1 : typeOf(a) < typeOf(b) ? -1 : 1
          },
          pace,
        )
      }
      let order = await sortOrder()
      let namesDetail = 'listed with names'
      if (namesDue) namesListedAt = startedAt
      else {
        // The names this manager knows, and Kubo's answer for the pins that are new.
        const inOrder = { cids: new Array<string>(order.length), recursive: new Uint8Array(order.length) }
        for (let k = 0; k < order.length; k++) {
          if ((k & (PACE_EVERY - 1)) === 0) await pace()
          const i = order[k] as number
          inOrder.cids[k] = cids.at(i)
          inOrder.recursive[k] = recursiveFlags.at(i) ? 1 : 0
        }
        const known = await options.history?.knownNames(ctx.peerId, inOrder)
        if (!known || known.unknown.length > NAMES_ASKED_MAX) {
          await list(true)
          order = await sortOrder()
          namesListedAt = startedAt
          namesDetail = `listed again with names (${known ? `${known.unknown.length} new pins` : 'no names known yet'})`
        } else {
          for (let k = 0; k < order.length; k++) {
            if ((k & (PACE_EVERY - 1)) === 0) await pace()
            names.set(order[k] as number, known.names[k] ?? null)
          }
          for (const k of known.unknown) {
            const i = order[k] as number
            names.set(i, await nameOf(ctx, cids.at(i), typeOf(i)))
          }
          namesDetail = `listed without names (kept from ${new Date(namesListedAt as number).toISOString()}, ${known.unknown.length} new asked of Kubo)`
        }
      }
      const listedAt = new Date()
      const hash = createHash('sha256')
      let recursive = 0
      let lines = ''
      for (let k = 0; k < order.length; k++) {
        if ((k & (PACE_EVERY - 1)) === 0) await pace()
        const i = order[k] as number
        if (recursiveFlags.at(i)) recursive++
        lines += `${cids.at(i)}\t${typeOf(i)}\t${names.at(i) ?? ''}\n`
        if (lines.length > 65_536) {
          hash.update(lines)
          lines = ''
        }
      }
      hash.update(lines)
      const digest = hash.digest('hex')
      const counts = { recursive, direct: order.length - recursive }
      options.onCounts?.(counts, ctx.cycle)
      // The listing in CID order, column by column, in turns like the rest.
      const n = order.length
      // A million-item array is allocated in one step (tens of ms): one per turn.
      const sortedCids = new Array<string>(n)
      await pace()
      const sortedRecursive = new Uint8Array(n)
      const sortedNames = new Array<string | null>(n)
      const direct = new Set<string>()
      for (let k = 0; k < n; k++) {
        if ((k & (PACE_EVERY - 1)) === 0) await pace()
        const i = order[k] as number
        const cid = cids.at(i)
        sortedCids[k] = cid
        sortedRecursive[k] = recursiveFlags.at(i) ? 1 : 0
        sortedNames[k] = names.at(i) ?? null
        if (!recursiveFlags.at(i)) direct.add(cid)
      }
      // When each pin was first seen, by its place in the stream (the rows are written from it).
      const firstSeen = new Float64Array(order.length)
      await fillInTurns(firstSeen, listedAt.getTime(), pace)
      const firstSeenExact = new Uint8Array(order.length)
      let baselineAt: Date | null = null
      const recentList = recentPinsList(listedAt)
      if (options.history) {
        const seen = await options.history.cycle(
          ctx,
          { cids: sortedCids, recursive: sortedRecursive, names: sortedNames },
          deltaSeq,
          listedAt,
        )
        baselineAt = seen.baselineAt
        for (let k = 0; k < order.length; k++) {
          if ((k & (PACE_EVERY - 1)) === 0) await pace()
          const i = order[k] as number
          firstSeen[i] = seen.firstSeen[k] as number
          firstSeenExact[i] = seen.exact[k] as number
          recentList.see(sortedCids[k] as string, firstSeen[i] as number, firstSeenExact[i] as number)
        }
      }
      const recent = recentList.meta()
      options.onPinset?.({
        cycle: ctx.cycle,
        listedAt: startedAt,
        cids: sortedCids,
        direct,
        digest,
        recent: recent.pins?.map(([cid]) => cid) ?? null,
      })

      const checked = async () => {
        await writeChecked(ctx, digest, 'listing')
        const cpu = (await cpuNow(options.kuboPid?.() ?? null)) - cpuAtStart
        last = {
          fingerprint,
          at: startedAt,
          ms: Math.max(Date.now() - startedAt, cpu),
          counts,
          digest,
          rows: order.length,
        }
        accounted = null
        // What the last look saw is in this listing (its fingerprint was taken before it began).
        foreignPending = false
      }
      const fold = () => options.deltaLog?.fold(ctx, deltaSeq)
      // The rows at these positions of the stream (in CID order), one row group's columns at a time.
      const rowsOf = (positions: Uint32Array): RowSource => ({
        rowCount: positions.length,
        slice(start, end) {
          const rows = positions.subarray(start, end)
          return pinsColumns(
            Array.from(rows, (i) => cids.at(i)),
            Array.from(rows, typeOf),
            Array.from(rows, (i) => names.at(i) ?? null),
            Array.from(rows, (i) => new Date(firstSeen[i] as number)),
            Array.from(rows, (i) => firstSeenExact[i] === 1),
          )
        },
      })
      const now = Date.now()
      // The named pins (for `pin list --name`), the direct pins (for `--type direct`) and the
      // pins first seen exactly in the last week (for `pin list --since`, the last day of
      // `storage report`; every such pin of this pinset, PINS_META.recentFrom), each in a file of
      // its own while they are few. Selected only when a file is written (not on an unchanged cycle).
      const recentFrom = listedAt.getTime() - RECENT_SUBSET_WINDOW_MS
      const inSubset: Record<PinSubsetKind, (i: number) => boolean> = {
        pins_named: (i) => names.at(i) != null,
        pins_direct: (i) => !recursiveFlags.at(i),
        pins_recent: (i) => firstSeenExact[i] === 1 && (firstSeen[i] as number) >= recentFrom,
      }
      const writeSubset = async (kind: PinSubsetKind) => {
        const subset = order.filter(inSubset[kind])
        const subsetPath = pinSubsetPath(options.kitPath, kind)
        // The recent pins are otherwise found by lookups, not by reading a column: worth a file
        // up to RECENT_SUBSET_MIN_ROWS whatever their share.
        const most = order.length * SUBSET_MAX_SHARE
        if (subset.length > (kind === 'pins_recent' ? Math.max(most, RECENT_SUBSET_MIN_ROWS) : most)) {
          await rm(subsetPath, { force: true })
          return
        }
        await writeIndexFileAtomic(
          subsetPath,
          {
            kind,
            schemaVersion: PINS_SUBSET_SCHEMA_VERSION,
            writer: options.writer,
            peerId: ctx.peerId,
            kuboVersion: ctx.kuboVersion,
            generatedAt: new Date(now),
            extra: {
              [PINSET_HASH_KEY]: digest,
              ...(kind === 'pins_recent'
                ? { [PINS_META.recentFrom]: new Date(recentFrom).toISOString() }
                : {}),
            },
          },
          rowsOf(subset),
          PINS_WRITE_OPTIONS,
        )
      }
      if ((await previousPinsetHash(path, 'pins', ctx.peerId)) === digest) {
        // An unchanged pinset whose subset file is missing or from another pinset (a crash
        // between the writes, an upgrade): that file only.
        for (const kind of PIN_SUBSETS) {
          if ((await previousPinsetHash(pinSubsetPath(options.kitPath, kind), kind, ctx.peerId)) !== digest)
            await writeSubset(kind)
        }
        await checked()
        // The file's pinset is the node's: the recorded changes up to deltaSeq are in it too.
        await fold()
        return { wrote: false, rows: order.length, detail: namesDetail }
      }

      // Before pins.parquet: a reader that opens the old pins.parquet and a new subset file sees
      // two pinsets and reads pins.parquet.
      for (const kind of PIN_SUBSETS) await writeSubset(kind)
      await writeIndexFileAtomic(
        path,
        {
          kind: 'pins',
          schemaVersion: PINS_SCHEMA_VERSION,
          writer: options.writer,
          peerId: ctx.peerId,
          kuboVersion: ctx.kuboVersion,
          generatedAt: new Date(now),
          extra: {
            [PINSET_HASH_KEY]: digest,
            [COUNT_RECURSIVE_KEY]: String(counts.recursive),
            [COUNT_DIRECT_KEY]: String(counts.direct),
            [PINS_META.deltaSeq]: String(deltaSeq),
            ...(baselineAt ? { [PINS_META.baselineAt]: baselineAt.toISOString() } : {}),
            [PINS_META.recentPins]: JSON.stringify(recent),
          },
        },
        rowsOf(order),
        PINS_WRITE_OPTIONS,
      )
      await checked()
      await fold()
      return { wrote: true, rows: order.length, detail: namesDetail }
    },
  }
}

/**
 * The pins first seen exactly (not at the baseline) in the day before `at`, seen in CID order,
 * one entry a CID, oldest first (PINS_META.recentPins); at most RECENT_PINS_KEPT, else their
 * count alone.
 */
function recentPinsList(at: Date) {
  const from = at.getTime() - RECENT_PINS_WINDOW_MS
  const pins: Array<[string, number]> = []
  let count = 0
  let last: string | null = null
  return {
    see(cid: string, firstSeen: number, exact: number): void {
      // A CID pinned both ways is two rows, next to each other: one entry.
      if (exact !== 1 || firstSeen < from || cid === last) return
      last = cid
      if (++count <= RECENT_PINS_KEPT) pins.push([cid, firstSeen])
    },
    meta(): RecentPinsMeta {
      pins.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1))
      return { from: new Date(from).toISOString(), pins: count <= RECENT_PINS_KEPT ? pins : null, count }
    },
  }
}

/** The name Kubo holds for one pin (`pin/ls` of that CID, with names): no walk, one short call. */
async function nameOf(
  ctx: CollectContext,
  cid: string,
  type: 'recursive' | 'direct',
): Promise<string | null> {
  try {
    for await (const p of ctx.rpc.pinLs({ type, names: true, cid }, { signal: ctx.signal }))
      return p.name ?? null
  } catch (err) {
    // Unpinned since the listing: the next cycle lists it gone.
    if (!(err instanceof KuboRpcError && /not pinned/.test(err.kuboMessage))) throw err
  }
  return null
}

/**
 * The pinset hash in the current file, if it is a valid file of this node, of the version this
 * build writes, whose every row group matches its checksum: a damaged or older file is rewritten
 * even when the pinset did not change.
 */
async function previousPinsetHash(
  path: string,
  kind: 'pins' | PinSubsetKind,
  peerId: string,
): Promise<string | null> {
  try {
    const file = await openIndexFile(path, kind, peerId)
    try {
      // A file of the version before is read, but rewritten in this version at the next listing.
      const current = kind === 'pins' ? PINS_SCHEMA_VERSION : PINS_SUBSET_SCHEMA_VERSION
      if (file.header.schemaVersion !== current) return null
      await verifyAllGroups(file.buffer, file.metadata)
      return file.header.kv[PINSET_HASH_KEY] ?? null
    } finally {
      await file.close()
    }
  } catch (err) {
    if (err instanceof IndexRejectedError) return null
    throw err
  }
}
