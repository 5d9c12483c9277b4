// The manager's side of the day logs (layout.ts): rows appended each cycle to the current part of
// today's folder, which is rewritten whole and atomically (a reader sees the part before or after
// the append, never half of it). The current part's rows are kept in memory, so an append costs
// one write of at most `maxPartRows` rows; a full part is left as it is and the next one begun.
// Rows older than the retention are pruned: whole days removed, a part that straddles the
// limit rewritten without its old rows.
import { rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { IndexRejectedError } from '../errors.js'
import type { Logger } from '../manager/log.js'
import { listDayLogParts, readDayLogPart } from '../store/day-log.js'
import {
  DAY_LOG_COLUMNS,
  DAY_LOG_META,
  DAY_LOG_TIME_COLUMN,
  type DayLogKind,
  dayLogPartPath,
  dayOf,
} from '../store/layout.js'
import { openIndexFile } from '../store/reader.js'
import { nullReasonsOf, type StateRow } from '../store/state.js'
import { writeTypedFile } from '../store/state-writer.js'

const DAY_MS = 86_400_000

export interface DayLogContext {
  peerId: string
  kuboVersion: string | null
}

export interface DayLogOptions {
  kitPath: string
  kind: DayLogKind
  writer: string
  log: Logger
  /** How long rows are kept, in milliseconds (history.retention_days). */
  retentionMs: () => number
  /** Rows of one part before the next is begun. */
  maxPartRows?: number
  now?: () => number
}

/** One part of a day log, as the writer holds it. */
interface Part {
  day: string
  part: number
  rows: StateRow[]
  nullReasons: Record<string, string>
}

export class DayLogWriter {
  readonly #o: Required<DayLogOptions>
  /** The part being appended to: its day, number and rows (in time order), once loaded. */
  #current: Part | null = null
  #peerId: string | null = null
  #queue: Promise<unknown> = Promise.resolve()

  constructor(options: DayLogOptions) {
    this.#o = { maxPartRows: 50_000, now: () => Date.now(), ...options }
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => {})
    return run
  }

  get #time(): string {
    return DAY_LOG_TIME_COLUMN[this.#o.kind]
  }

  #timeOf(row: StateRow): number {
    const v = row[this.#time]
    return v instanceof Date ? v.getTime() : Date.parse(String(v))
  }

  /**
   * The part of `day` to append to: the last one on disk when it is sound and not full (read
   * back once), else a new one. A part that is refused is moved aside with its reason in the
   * log, never appended to and never deleted: the rows in it are not lost, only not trusted.
   */
  async #open(ctx: DayLogContext, day: string): Promise<Part> {
    if (this.#current?.day === day && this.#peerId === ctx.peerId) return this.#current
    const parts = (await listDayLogParts(this.#o.kitPath, this.#o.kind)).filter((p) => p.day === day)
    const last = parts.at(-1)
    let current: Part = { day, part: (last?.part ?? -1) + 1, rows: [], nullReasons: {} }
    if (last) {
      try {
        const rows = await readDayLogPart(last, this.#o.kind, ctx.peerId)
        if (rows.length < this.#o.maxPartRows) {
          const file = await openIndexFile(last.path, this.#o.kind, ctx.peerId)
          const nullReasons = nullReasonsOf(file)
          await file.close()
          current = { day, part: last.part, rows: rows.map((r) => this.#typed(r)), nullReasons }
        }
      } catch (err) {
        if (!(err instanceof IndexRejectedError)) throw err
        const aside = `${last.path}.refused-${Date.now()}`
        await rename(last.path, aside).catch(() => {})
        this.#o.log.warn('moved aside a day-log part that cannot be trusted', {
          kind: this.#o.kind,
          path: last.path,
          moved_to: aside,
          reason: err.reason,
        })
      }
    }
    this.#current = current
    this.#peerId = ctx.peerId
    return current
  }

  /** A row read back (times as ISO text) in the form rows are written in. */
  #typed(row: Record<string, string | number | boolean | null>): StateRow {
    const out: StateRow = {}
    for (const { name, type } of DAY_LOG_COLUMNS[this.#o.kind]) {
      const v = row[name] ?? null
      out[name] = type === 'TIMESTAMP' && typeof v === 'string' ? new Date(v) : v
    }
    return out
  }

  async #write(ctx: DayLogContext, c: Part): Promise<void> {
    const path = dayLogPartPath(this.#o.kitPath, this.#o.kind, c.day, c.part)
    if (c.rows.length === 0) {
      await rm(path, { force: true })
      return
    }
    await writeTypedFile(
      path,
      this.#o.kind,
      DAY_LOG_COLUMNS[this.#o.kind],
      {
        writer: this.#o.writer,
        peerId: ctx.peerId,
        kuboVersion: ctx.kuboVersion,
        generatedAt: new Date(this.#o.now()),
      },
      c.rows,
      c.nullReasons,
      {
        [DAY_LOG_META.day]: c.day,
        [DAY_LOG_META.firstAt]: new Date(this.#timeOf(c.rows[0] as StateRow)).toISOString(),
        [DAY_LOG_META.lastAt]: new Date(this.#timeOf(c.rows.at(-1) as StateRow)).toISOString(),
      },
    )
  }

  /**
   * Appends rows (in time order, each timed by the kind's time column) and writes the parts they
   * went to; `nullReasons` says why a column of these rows is null (kept per part).
   */
  append(
    ctx: DayLogContext,
    rows: readonly StateRow[],
    nullReasons: Record<string, string> = {},
  ): Promise<void> {
    return this.#serial(async () => {
      let pending: Part | null = null
      for (const row of rows) {
        const day = dayOf(this.#timeOf(row))
        let c = await this.#open(ctx, day)
        if (pending && pending !== c) await this.#write(ctx, pending)
        if (c.rows.length >= this.#o.maxPartRows) {
          if (pending === c) await this.#write(ctx, c)
          c = { day, part: c.part + 1, rows: [], nullReasons: {} }
          this.#current = c
        }
        const last = c.rows.at(-1)
        // Rows within a part are in time order: a clock that stepped back does not break that.
        if (last && this.#timeOf(row) < this.#timeOf(last)) row[this.#time] = new Date(this.#timeOf(last))
        c.rows.push(row)
        Object.assign(c.nullReasons, nullReasons)
        pending = c
      }
      if (pending) await this.#write(ctx, pending)
    })
  }

  /** Removes the rows older than the retention; returns how many parts were removed or cut. */
  prune(ctx: DayLogContext): Promise<number> {
    return this.#serial(async () => {
      const cutoff = this.#o.now() - this.#o.retentionMs()
      let changed = 0
      for (const part of await listDayLogParts(this.#o.kitPath, this.#o.kind)) {
        const dayStart = Date.parse(`${part.day}T00:00:00Z`)
        if (dayStart >= cutoff) break
        const c = this.#current
        if (c && c.day === part.day && c.part === part.part && this.#peerId === ctx.peerId) {
          const kept = c.rows.filter((r) => this.#timeOf(r) >= cutoff)
          if (kept.length === c.rows.length) continue
          c.rows = kept
          await this.#write(ctx, c)
          changed++
          continue
        }
        if (dayStart + DAY_MS <= cutoff) {
          // The whole day is past: its folder goes, with any part moved aside in it.
          await rm(dirname(part.path), { recursive: true, force: true })
          changed++
          continue
        }
        // A part of the day that straddles the limit: its footer says whether it holds old rows.
        let file: Awaited<ReturnType<typeof openIndexFile>> | null = null
        try {
          file = await openIndexFile(part.path, this.#o.kind, ctx.peerId)
          const first = Date.parse(file.header.kv[DAY_LOG_META.firstAt] ?? '')
          const last = Date.parse(file.header.kv[DAY_LOG_META.lastAt] ?? '')
          const nullReasons = nullReasonsOf(file)
          await file.close()
          file = null
          if (last < cutoff) {
            await rm(part.path, { force: true })
            changed++
          } else if (!(first >= cutoff)) {
            const rows = (await readDayLogPart(part, this.#o.kind, ctx.peerId))
              .map((r) => this.#typed(r))
              .filter((r) => this.#timeOf(r) >= cutoff)
            await this.#write(ctx, { day: part.day, part: part.part, rows, nullReasons })
            changed++
          }
        } catch (err) {
          // A part that cannot be trusted is left for #open (today's) or for its day's end.
          if (!(err instanceof IndexRejectedError)) throw err
        } finally {
          await file?.close()
        }
      }
      return changed
    })
  }
}
