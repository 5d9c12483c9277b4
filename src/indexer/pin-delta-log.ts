// The manager's side of pins_delta.parquet. After a `pin add` or `pin rm` through ipfs-kit, the
// CLI asks the manager to record it: the manager asks Kubo what it now holds for that CID
// (pin/ls of that one CID, recursive then direct: never a DAG walk), numbers the answer, and
// rewrites the small delta file atomically. The pin collector takes the current number before
// it streams the pinset, writes it into pins.parquet as delta_seq, and afterwards drops the
// entries the new pinset already holds. Every change to the delta goes through one queue.
import { rm } from 'node:fs/promises'
import { IndexRejectedError, KuboRpcError } from '../errors.js'
import type { KuboRpc } from '../kubo/rpc.js'
import type { Logger } from '../manager/log.js'
import { indexFilePath, PINS_META, pinsDeltaPath } from '../store/layout.js'
import { type DeltaEntry, readPinDelta } from '../store/pin-delta.js'
import { writePinDelta } from '../store/pin-delta-writer.js'
import { openIndexFile } from '../store/reader.js'
import type { PinHistory } from './pin-history.js'

export interface RecordContext {
  rpc: KuboRpc
  peerId: string
  kuboVersion: string | null
}

/** The most entries the delta holds before a change asks for a full index cycle instead. */
export const MAX_DELTA_ENTRIES = 10_000

export class PinDeltaLog {
  readonly #kitPath: string
  readonly #writer: string
  readonly #log: Logger
  #entries: DeltaEntry[] = []
  #seq = 0
  #peerId: string | null = null
  #queue: Promise<unknown> = Promise.resolve()
  readonly #history: PinHistory | undefined

  constructor(options: { kitPath: string; writer: string; log: Logger; history?: PinHistory }) {
    this.#kitPath = options.kitPath
    this.#writer = options.writer
    this.#log = options.log
    this.#history = options.history
  }

  /** Runs one change at a time, in order. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * Loads the delta of this node (once per peer ID): its entries and the highest number used,
   * also the one in pins.parquet, so that numbers never go back. A delta that cannot be trusted
   * (damaged, another node's) is removed: the next cycle's pins.parquet holds its changes.
   */
  async #load(peerId: string): Promise<void> {
    if (this.#peerId === peerId) return
    this.#entries = []
    this.#seq = 0
    try {
      this.#entries = (await readPinDelta(this.#kitPath, peerId)) ?? []
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      this.#log.warn('removing a pins delta that cannot be trusted', { reason: err.reason })
      await rm(pinsDeltaPath(this.#kitPath), { force: true })
    }
    this.#seq = this.#entries.at(-1)?.seq ?? 0
    try {
      const base = await openIndexFile(indexFilePath(this.#kitPath, 'pins'), 'pins', peerId)
      const baseSeq = Number(base.header.kv[PINS_META.deltaSeq])
      await base.close()
      if (Number.isSafeInteger(baseSeq) && baseSeq > this.#seq) this.#seq = baseSeq
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
    }
    this.#peerId = peerId
  }

  async #save(ctx: RecordContext): Promise<void> {
    if (this.#entries.length === 0) {
      await rm(pinsDeltaPath(this.#kitPath), { force: true })
      return
    }
    await writePinDelta(
      this.#kitPath,
      {
        writer: this.#writer,
        peerId: ctx.peerId,
        kuboVersion: ctx.kuboVersion,
        generatedAt: new Date(),
      },
      this.#entries,
    )
  }

  /** What Kubo holds for one CID right now: its recursive or direct pin, or none. */
  async #askKubo(rpc: KuboRpc, cid: string): Promise<Omit<DeltaEntry, 'seq' | 'recorded_at'>> {
    for (const type of ['recursive', 'direct'] as const) {
      try {
        for await (const p of rpc.pinLs({ type, names: true, cid })) {
          if (p.type === type) return { op: 'add', cid: p.cid, type, name: p.name }
        }
      } catch (err) {
        if (!(err instanceof KuboRpcError && /is not pinned/.test(err.kuboMessage))) throw err
      }
    }
    return { op: 'rm', cid, type: null, name: null }
  }

  /**
   * Records what Kubo now holds for these CIDs (after a pin change through ipfs-kit) and writes
   * the delta. Returns the entries written, or null when the delta is full (the caller then runs
   * a full cycle instead).
   */
  record(ctx: RecordContext, cids: readonly string[]): Promise<DeltaEntry[] | null> {
    return this.#serial(async () => {
      await this.#load(ctx.peerId)
      if (this.#entries.length + cids.length > MAX_DELTA_ENTRIES) return null
      const added: DeltaEntry[] = []
      for (const cid of cids) {
        const answer = await this.#askKubo(ctx.rpc, cid)
        added.push({ ...answer, seq: ++this.#seq, recorded_at: new Date() })
      }
      this.#entries.push(...added)
      await this.#save(ctx)
      // Within this task: a cycle that takes the number after it finds the events recorded.
      await this.#history?.recorded(ctx, added)
      return added
    })
  }

  /**
   * The number of the last recorded change, taken just before the pin collector streams the
   * pinset: every change up to it was confirmed by Kubo before the stream began, so the stream
   * holds it.
   */
  snapshot(peerId: string): Promise<number> {
    return this.#serial(async () => {
      await this.#load(peerId)
      return this.#seq
    })
  }

  /**
   * Drops the entries a pins.parquet with delta_seq `upTo` holds (after it is in place), and
   * rewrites the delta (or removes it when empty) every cycle, so that a file put in its place
   * by anything else does not outlive the cycle.
   */
  fold(ctx: RecordContext, upTo: number): Promise<void> {
    return this.#serial(async () => {
      await this.#load(ctx.peerId)
      this.#entries = this.#entries.filter((e) => e.seq > upTo)
      await this.#save(ctx)
    })
  }
}
