// The background indexing loop: runs every collector at once on start, then every interval,
// never two cycles at a time. A failed collector is logged, reported, and retried after 5 s
// without holding up the others. `refresh` runs a cycle now (also while paused) and resolves
// when its files are in place; a cycle that takes more than a tenth of the interval stretches
// the interval so that indexing never eats more than about a tenth of the time (a collector with
// a budget of its own, content's, is left out of that rule: its budget is its share). The
// interval counts from a cycle's start.
import type { KuboRpc } from '../kubo/rpc.js'
import type { Logger } from '../manager/log.js'

export interface CollectContext {
  rpc: KuboRpc
  peerId: string
  kuboVersion: string | null
  signal: AbortSignal
  /** The number of this cycle since the manager started; grows by one per cycle. */
  cycle: number
  /** Someone asked for this cycle (`index refresh`, a full delta): it must give the whole truth, not a cheaper part. */
  asked?: boolean
}

export interface CollectorOutcome {
  /** False when nothing changed and the file was left alone. */
  wrote: boolean
  rows?: number
  detail?: string
}

export interface Collector {
  name: string
  run(ctx: CollectContext): Promise<CollectorOutcome>
  /**
   * This collector's time is its own setting's to bound (the content collector examines for at
   * most content.budget_ms a cycle): it is left out of the time that stretches the interval,
   * which would otherwise multiply a budget of a tenth of the interval by ten.
   */
  budgeted?: boolean
}

export interface CollectorStatus {
  last_run: string | null
  last_success: string | null
  last_write: string | null
  last_duration_ms: number | null
  last_rows: number | null
  /** What the collector said of its last successful run. */
  last_detail: string | null
  last_error: string | null
  last_error_at: string | null
  consecutive_failures: number
  /** Failed runs since the manager started. */
  failures_total: number
}

export interface CycleResult {
  cycle: number
  /** Why it ran: the interval, asked for, a retry, or a change a watch saw. */
  reason: string
  started_at: string
  duration_ms: number
  outcomes: Record<string, { ok: true; wrote: boolean; rows: number | null } | { ok: false; error: string }>
}

export interface IndexStatus {
  running: boolean
  paused: boolean
  cycle_running: boolean
  interval_s: number
  effective_interval_s: number
  stretched_reason: string | null
  cycles: number
  last_cycle: CycleResult | null
  /** When every collector last succeeded in one cycle: the index's "as of" time. */
  last_updated: string | null
  next_cycle_at: string | null
  collectors: Record<string, CollectorStatus>
}

export interface IndexLoopOptions {
  collectors: Collector[]
  intervalS: number
  /** The context to collect with, or null while Kubo is not available. */
  context: () => Omit<CollectContext, 'signal' | 'cycle'> | null
  log: Logger
  retryAfterMs?: number
  /** Called after every cycle (metrics). */
  onCycle?: (result: CycleResult) => void
  /**
   * A cheap check asked every `everyMs` between cycles: a reason to run a cycle now (something
   * changed), or null. Not asked before `minGapMs()` has passed since the last cycle ended, so
   * that a node that changes all the time is not listed all the time.
   */
  watch?: { everyMs: number; check: () => string | null; minGapMs: () => number }
}

const RETRY_AFTER_MS = 5_000

interface Waiter {
  resolve: (r: CycleResult) => void
  reject: (e: Error) => void
}

export class IndexLoop {
  readonly #o: Required<Omit<IndexLoopOptions, 'onCycle' | 'watch'>> &
    Pick<IndexLoopOptions, 'onCycle' | 'watch'>
  readonly #abort = new AbortController()
  #paused = false
  #closed = false
  #cycleRunning = false
  #cycles = 0
  #effectiveIntervalMs: number
  #stretchedReason: string | null = null
  #nextRegularAt = 0
  #nextWatchAt = 0
  #lastCycleEndAt = 0
  #retryAt: number | null = null
  #lastCycle: CycleResult | null = null
  #lastUpdated: string | null = null
  #wake: (() => void) | null = null
  #refreshWaiters: Waiter[] = []
  #firstCycleWaiters: Waiter[] = []
  #done: Promise<void> | null = null
  readonly #collectorStatus = new Map<string, CollectorStatus>()

  constructor(options: IndexLoopOptions) {
    this.#o = { retryAfterMs: RETRY_AFTER_MS, ...options }
    this.#effectiveIntervalMs = options.intervalS * 1000
    for (const c of options.collectors) {
      this.#collectorStatus.set(c.name, {
        last_run: null,
        last_success: null,
        last_write: null,
        last_duration_ms: null,
        last_rows: null,
        last_detail: null,
        last_error: null,
        last_error_at: null,
        consecutive_failures: 0,
        failures_total: 0,
      })
    }
  }

  /** Starts the loop; the first cycle runs at once. */
  start(): void {
    if (this.#done) return
    this.#nextRegularAt = Date.now()
    this.#done = this.#run()
  }

  /** Resolves after the first cycle in which every collector succeeded; rejects if the loop closes first. */
  firstFullCycle(): Promise<CycleResult> {
    return new Promise((resolve, reject) => this.#firstCycleWaiters.push({ resolve, reject }))
  }

  pause(): void {
    this.#paused = true
    this.#o.log.info('background indexing paused')
    this.#poke()
  }

  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#o.log.info('background indexing resumed')
    this.#poke()
  }

  /** Runs a full cycle now, after any cycle already running, and resolves when it is written. */
  refresh(): Promise<CycleResult> {
    if (this.#closed) return Promise.reject(new Error('the index loop is stopping'))
    const p = new Promise<CycleResult>((resolve, reject) => this.#refreshWaiters.push({ resolve, reject }))
    this.#poke()
    return p
  }

  /**
   * Stops the loop: the signal every collector was given is aborted at once, so a listing or a
   * walk in progress stops (within a chunk of its stream); a file being written is written whole
   * (writes take no signal), then the loop ends.
   */
  async close(): Promise<void> {
    this.#closed = true
    this.#abort.abort()
    this.#poke()
    await this.#done
    const err = new Error('the index loop stopped')
    for (const w of [...this.#refreshWaiters, ...this.#firstCycleWaiters]) w.reject(err)
    this.#refreshWaiters = []
    this.#firstCycleWaiters = []
  }

  status(): IndexStatus {
    const next = this.#nextDueAt(false)
    return {
      running: this.#done !== null && !this.#closed && !this.#paused,
      paused: this.#paused,
      cycle_running: this.#cycleRunning,
      interval_s: this.#o.intervalS,
      effective_interval_s: this.#effectiveIntervalMs / 1000,
      stretched_reason: this.#stretchedReason,
      cycles: this.#cycles,
      last_cycle: this.#lastCycle,
      last_updated: this.#lastUpdated,
      next_cycle_at: next === null || this.#closed ? null : new Date(next).toISOString(),
      collectors: Object.fromEntries([...this.#collectorStatus].map(([k, v]) => [k, { ...v }])),
    }
  }

  // --- internals ---------------------------------------------------------------------------

  #poke(): void {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }

  /** When the loop wakes next; `withWatch: false`: when the next cycle is sure to run. */
  #nextDueAt(withWatch = true): number | null {
    const candidates: number[] = []
    if (this.#refreshWaiters.length > 0) candidates.push(Date.now())
    if (!this.#paused) {
      candidates.push(this.#nextRegularAt)
      if (this.#retryAt !== null) candidates.push(this.#retryAt)
      if (this.#o.watch && withWatch) candidates.push(this.#nextWatchAt)
    }
    return candidates.length > 0 ? Math.min(...candidates) : null
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const due = this.#nextDueAt()
      const wait = due === null ? null : due - Date.now()
      if (wait === null || wait > 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve
          if (wait !== null) {
            const timer = setTimeout(resolve, wait)
            const clear = () => clearTimeout(timer)
            this.#wake = () => {
              clear()
              resolve()
            }
          }
        })
        continue
      }
      const now = Date.now()
      const waiters = this.#refreshWaiters
      this.#refreshWaiters = []
      const regular = !this.#paused && now >= this.#nextRegularAt
      const retry = !this.#paused && this.#retryAt !== null && now >= this.#retryAt
      let reason: string
      let full = true
      if (waiters.length > 0) reason = 'asked for (index refresh or a pin change)'
      else if (regular) reason = 'the interval'
      else if (retry) {
        reason = 'a retry of the collectors that failed'
        full = false
      } else {
        // A watch tick: run now only if something changed, and not sooner than the gap allows.
        const watch = this.#o.watch as NonNullable<IndexLoopOptions['watch']>
        const earliest = this.#lastCycleEndAt + watch.minGapMs()
        if (now < earliest) {
          this.#nextWatchAt = earliest
          continue
        }
        this.#nextWatchAt = now + watch.everyMs
        const why = watch.check()
        if (why === null) continue
        reason = why
      }
      const only = full ? null : this.#failedCollectors()
      const result = await this.#cycle(only, waiters.length > 0, reason)
      for (const w of waiters) w.resolve(result)
    }
  }

  #failedCollectors(): Set<string> {
    return new Set(
      [...this.#collectorStatus].filter(([, s]) => s.consecutive_failures > 0).map(([name]) => name),
    )
  }

  async #cycle(only: Set<string> | null, asked: boolean, reason: string): Promise<CycleResult> {
    this.#cycleRunning = true
    const cycle = ++this.#cycles
    const startedAt = new Date()
    const t0 = performance.now()
    const outcomes: CycleResult['outcomes'] = {}
    const base = this.#o.context()
    let budgetedMs = 0
    for (const collector of this.#o.collectors) {
      if (only && !only.has(collector.name)) continue
      const status = this.#collectorStatus.get(collector.name) as CollectorStatus
      const c0 = performance.now()
      status.last_run = new Date().toISOString()
      try {
        if (!base) throw new Error('Kubo is not available (not started, restarting or not answering)')
        const outcome = await collector.run({ ...base, signal: this.#abort.signal, cycle, asked })
        const now = new Date().toISOString()
        status.last_success = now
        if (outcome.wrote) status.last_write = now
        status.last_rows = outcome.rows ?? null
        status.last_detail = outcome.detail ?? null
        status.last_error = null
        status.consecutive_failures = 0
        outcomes[collector.name] = { ok: true, wrote: outcome.wrote, rows: outcome.rows ?? null }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        status.consecutive_failures++
        status.failures_total++
        status.last_error = message
        status.last_error_at = new Date().toISOString()
        outcomes[collector.name] = { ok: false, error: message }
        // Log the first failure and then every tenth, so a long outage does not flood the log.
        if (status.consecutive_failures === 1 || status.consecutive_failures % 10 === 0) {
          this.#o.log.warn('collector failed; retrying soon', {
            collector: collector.name,
            error: message,
            consecutive_failures: status.consecutive_failures,
          })
        }
      } finally {
        status.last_duration_ms = Math.round(performance.now() - c0)
        if (collector.budgeted) budgetedMs += performance.now() - c0
      }
    }
    const duration = performance.now() - t0
    const result: CycleResult = {
      cycle,
      reason,
      started_at: startedAt.toISOString(),
      duration_ms: Math.round(duration),
      outcomes,
    }
    this.#lastCycle = result
    this.#o.onCycle?.(result)
    // Every cycle at debug level (log.level: debug); failures are logged at warn above.
    this.#o.log.debug('cycle done', {
      cycle,
      duration_ms: result.duration_ms,
      only: only ? [...only] : null,
      wrote: Object.entries(outcomes)
        .filter(([, o]) => o.ok && o.wrote)
        .map(([name]) => name),
    })
    const failed = this.#failedCollectors()
    this.#retryAt = failed.size > 0 ? Date.now() + this.#o.retryAfterMs : null
    if (only === null) {
      this.#adjustInterval(duration - budgetedMs)
      // Every interval from this cycle's start, so that a budgeted collector's time does not
      // push the next cycle back; at least a tenth of the interval after this one's end.
      const end = Date.now()
      this.#nextRegularAt = Math.max(
        end - duration + this.#effectiveIntervalMs,
        end + this.#effectiveIntervalMs / 10,
      )
      if (failed.size === 0) this.#markUpdated(startedAt, result)
    } else if (failed.size === 0) {
      this.#markUpdated(startedAt, result)
    }
    this.#cycleRunning = false
    this.#lastCycleEndAt = Date.now()
    this.#nextWatchAt = Math.max(this.#nextWatchAt, this.#lastCycleEndAt + (this.#o.watch?.everyMs ?? 0))
    return result
  }

  #markUpdated(startedAt: Date, result: CycleResult): void {
    this.#lastUpdated = startedAt.toISOString()
    for (const w of this.#firstCycleWaiters) w.resolve(result)
    this.#firstCycleWaiters = []
  }

  #adjustInterval(durationMs: number): void {
    const intervalMs = this.#o.intervalS * 1000
    if (durationMs > intervalMs / 10) {
      this.#effectiveIntervalMs = Math.ceil(durationMs * 10)
      this.#stretchedReason = `a cycle took ${Math.round(durationMs)} ms, more than a tenth of the ${this.#o.intervalS} s interval`
      this.#o.log.info('stretching the index interval', {
        effective_interval_s: this.#effectiveIntervalMs / 1000,
      })
    } else if (this.#stretchedReason !== null) {
      this.#effectiveIntervalMs = intervalMs
      this.#stretchedReason = null
      this.#o.log.info('index interval back to normal', { interval_s: this.#o.intervalS })
    }
  }
}
