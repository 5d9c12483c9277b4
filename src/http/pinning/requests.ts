// The pin requests of the Pinning Service API and their work: each POST becomes a request with a
// random id (the same CID may be asked for many times, with other names or meta), kept in
// pin_requests.parquet, and pinned through Kubo in the background, a few at a time
// (`pinning.concurrency`): queued, pinning (after connecting to the origins the client named),
// pinned or failed with the reason. Each pin change Kubo confirms is recorded in the index at once
// (the same path as `ipfs-kit pin add`). A request removed unpins its CID unless another request
// still holds it. Requests unfinished when the manager stopped are queued again at its next start.
import { randomBytes } from 'node:crypto'
import { rename } from 'node:fs/promises'
import { IndexRejectedError, KuboRpcError, PinningApiError } from '../../errors.js'
import type { KuboRpc } from '../../kubo/rpc.js'
import type { Logger } from '../../manager/log.js'
import { parseUserCid } from '../../pins/cid.js'
import { pinRequestsPath } from '../../store/layout.js'
import { readPinRequests } from '../../store/pin-requests.js'
import type { PinRequestRow } from '../../store/pin-requests-format.js'
import { writePinRequests } from '../../store/pin-requests-writer.js'
import type { CreatedAt } from '../pins-view.js'

export interface KuboAccess {
  rpc: KuboRpc
  peerId: string
  kuboVersion: string | null
}

export interface PinRequestsOptions {
  kitPath: string
  writer: string
  log: Logger
  concurrency: number
  kubo: () => KuboAccess | null
  /** Records in the index what Kubo now holds for these CIDs (the delta), as `ipfs-kit pin add` does. */
  recordChange: (cids: string[], note: 'pin.add' | 'pin.rm') => Promise<void>
  /** True while the node pins this CID (any spelling), as the index knows it now. */
  pinnedOnNode: (spellings: readonly string[]) => boolean
}

/** What a client asks to pin (already checked: pinning/input.ts). */
export interface PinInput {
  cid: string
  name: string | null
  origins: string[]
  meta: Record<string, string>
}

export interface PinRequest extends PinRequestRow {
  /** Every spelling of the CID Kubo may list it under. */
  spellings: string[]
}

/** The request id of a pin the node holds that no request made: this prefix and the CID as Kubo lists it. */
export const NODE_PIN_PREFIX = 'node-'

/** A pin add that makes no progress for this long fails (Kubo found no provider of a block). */
const PIN_SILENCE_MS = 5 * 60_000
const ORIGIN_CONNECT_MS = 15_000
/** While Kubo is away, queued requests wait this long before trying again. */
const KUBO_WAIT_MS = 5_000

type State = 'stopped' | 'loading' | 'ready' | 'stopping'

export class PinRequests {
  readonly #o: PinRequestsOptions
  #state: State = 'stopped'
  #peerId: string | null = null
  readonly #requests = new Map<string, PinRequest>()
  /** Newest first, rebuilt when requests come or go. */
  #newestFirst: PinRequest[] | null = null
  readonly #queue: string[] = []
  readonly #running = new Map<string, AbortController>()
  #lastCreated: CreatedAt = { ms: 0, ns: 0 }
  #saving: Promise<void> = Promise.resolve()
  #dirty = false
  #retryTimer: NodeJS.Timeout | null = null
  #loadProblem: string | null = null

  constructor(options: PinRequestsOptions) {
    this.#o = options
  }

  get ready(): boolean {
    return this.#state === 'ready'
  }

  /** Why the requests file was not taken back at start, when it was not. */
  get loadProblem(): string | null {
    return this.#loadProblem
  }

  /**
   * Reads back the requests of this node and queues the unfinished ones. A file that cannot be
   * trusted is moved aside (kept, named in the log) and the service starts without it.
   */
  async start(peerId: string): Promise<void> {
    if (this.#state !== 'stopped') return
    this.#state = 'loading'
    this.#peerId = peerId
    let rows: PinRequestRow[] = []
    try {
      rows = (await readPinRequests(this.#o.kitPath, peerId)) ?? []
    } catch (err) {
      if (!(err instanceof IndexRejectedError)) throw err
      const aside = `${pinRequestsPath(this.#o.kitPath)}.rejected-${Date.now()}`
      await rename(pinRequestsPath(this.#o.kitPath), aside)
      this.#loadProblem = `${err.reason}; moved to ${aside}`
      this.#o.log.warn('pin_requests.parquet cannot be trusted; moved aside, starting without it', {
        reason: err.reason,
        moved_to: aside,
      })
    }
    for (const row of rows) {
      const { spellings } = await parseUserCid(row.cid)
      const request: PinRequest = { ...row, spellings }
      if (request.status === 'pinning') request.status = 'queued'
      this.#requests.set(request.requestid, request)
      if (compareTimes(row, this.#lastCreated) > 0)
        this.#lastCreated = { ms: row.created.getTime(), ns: row.created_ns }
      if (request.status === 'queued') this.#queue.push(request.requestid)
    }
    this.#state = 'ready'
    this.#pump()
  }

  /** Stops the work in flight (it is queued again at the next start) and waits for the last write. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'stopping'
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    for (const c of this.#running.values()) c.abort()
    await this.#saving
    this.#state = 'stopped'
  }

  get(requestid: string): PinRequest | undefined {
    return this.#requests.get(requestid)
  }

  /** Every request, newest first. */
  newestFirst(): readonly PinRequest[] {
    this.#newestFirst ??= [...this.#requests.values()].sort((a, b) => compareTimes(b, a))
    return this.#newestFirst
  }

  /** The status a client sees: a pinned request whose CID the node no longer pins has failed. */
  effective(r: PinRequest): { status: PinRequest['status']; info: Record<string, string> } {
    if (r.status === 'pinned' && !this.#o.pinnedOnNode(r.spellings)) {
      return {
        status: 'failed',
        info: {
          status_details: 'the node no longer pins this CID: it was unpinned outside the Pinning Service API',
        },
      }
    }
    return { status: r.status, info: r.info }
  }

  /** True when a request (other than `except`) still wants this CID pinned. */
  holds(spellings: readonly string[], except?: string): boolean {
    for (const r of this.#requests.values()) {
      if (r.requestid === except || r.status === 'failed') continue
      if (r.spellings.some((s) => spellings.includes(s))) return true
    }
    return false
  }

  /** A new request, queued; resolves once it is written down. */
  async add(input: PinInput, replaces?: string): Promise<PinRequest> {
    this.#mustBeReady()
    const { spellings } = await parseUserCid(input.cid)
    const now = new Date()
    const created = this.#nextCreated(now.getTime())
    const request: PinRequest = {
      requestid: randomBytes(16).toString('base64url'),
      cid: input.cid,
      name: input.name,
      origins: input.origins,
      meta: input.meta,
      status: 'queued',
      created: new Date(created.ms),
      created_ns: created.ns,
      info: replaces ? { replaces } : {},
      updated_at: now,
      spellings,
    }
    this.#requests.set(request.requestid, request)
    this.#newestFirst = null
    await this.#save()
    this.#queue.push(request.requestid)
    this.#pump()
    return request
  }

  /**
   * Removes a request: stops its work, and unpins its CID through Kubo when no other request
   * holds it and it was this request that pinned it (or `unpin` says so: a node pin removed by
   * its id).
   */
  async remove(requestid: string): Promise<boolean> {
    this.#mustBeReady()
    const r = this.#requests.get(requestid)
    if (!r) return false
    this.#running.get(requestid)?.abort()
    this.#requests.delete(requestid)
    this.#newestFirst = null
    await this.#save()
    if (!this.holds(r.spellings) && r.status !== 'failed') await this.unpin(r.cid)
    return true
  }

  /** Unpins a CID through Kubo and records it; a CID Kubo does not pin is no error. */
  async unpin(cid: string): Promise<void> {
    const kubo = this.#o.kubo()
    if (!kubo)
      throw new PinningApiError(
        503,
        'KUBO_UNAVAILABLE',
        'Kubo is not available (starting, restarting or not answering); try again',
      )
    try {
      await kubo.rpc.pinRm(cid)
    } catch (err) {
      if (!(err instanceof KuboRpcError && /not pinned/.test(err.kuboMessage))) throw err
    }
    await this.#o.recordChange([cid], 'pin.rm')
  }

  /** After a replacement is pinned: the request it replaced goes (a node pin: its CID is unpinned, unless held). */
  async #dropReplaced(requestid: string): Promise<void> {
    if (this.#requests.has(requestid)) {
      await this.remove(requestid)
      return
    }
    if (!requestid.startsWith(NODE_PIN_PREFIX)) return
    const cid = requestid.slice(NODE_PIN_PREFIX.length)
    const { spellings } = await parseUserCid(cid)
    if (!this.holds(spellings)) await this.unpin(cid)
  }

  #mustBeReady(): void {
    if (this.#state !== 'ready')
      throw new PinningApiError(
        503,
        'NOT_READY',
        `the pinning service is ${this.#state}; try again in a moment`,
      )
  }

  /** A creation time after every other: the spec pages by it, so no two requests share one. */
  #nextCreated(ms: number): CreatedAt {
    const last = this.#lastCreated
    const next =
      ms > last.ms
        ? { ms, ns: 0 }
        : last.ns < 999_999
          ? { ms: last.ms, ns: last.ns + 1 }
          : { ms: last.ms + 1, ns: 0 }
    this.#lastCreated = next
    return next
  }

  /** Writes every request; concurrent calls share one write when they can. */
  #save(): Promise<void> {
    this.#dirty = true
    const peerId = this.#peerId as string
    const run = this.#saving.then(async () => {
      if (!this.#dirty) return
      this.#dirty = false
      const rows = [...this.#requests.values()].sort((a, b) => compareTimes(a, b))
      const kubo = this.#o.kubo()
      await writePinRequests(
        this.#o.kitPath,
        { writer: this.#o.writer, peerId, kuboVersion: kubo?.kuboVersion ?? null, generatedAt: new Date() },
        rows.map(({ spellings: _, ...row }) => row),
      )
    })
    this.#saving = run.catch((err: Error) => {
      this.#o.log.error('could not write pin_requests.parquet', { error: err.message })
    })
    return run
  }

  #pump(): void {
    while (this.#state === 'ready' && this.#running.size < this.#o.concurrency && this.#queue.length > 0) {
      const id = this.#queue.shift() as string
      const r = this.#requests.get(id)
      if (r?.status !== 'queued') continue
      const kubo = this.#o.kubo()
      if (!kubo) {
        this.#queue.unshift(id)
        this.#retryTimer ??= setTimeout(() => {
          this.#retryTimer = null
          this.#pump()
        }, KUBO_WAIT_MS)
        return
      }
      const abort = new AbortController()
      this.#running.set(id, abort)
      void this.#work(r, kubo, abort.signal).finally(() => {
        this.#running.delete(id)
        this.#pump()
      })
    }
  }

  async #work(r: PinRequest, kubo: KuboAccess, signal: AbortSignal): Promise<void> {
    const update = async (status: PinRequest['status'], info: Record<string, string>) => {
      if (!this.#requests.has(r.requestid)) return
      r.status = status
      r.info = info
      r.updated_at = new Date()
      await this.#save()
    }
    try {
      const replaces = r.info.replaces
      await update('pinning', { status_details: 'connecting to origins', ...(replaces ? { replaces } : {}) })
      const unreachable: string[] = []
      for (const origin of r.origins) {
        try {
          await kubo.rpc.swarmConnect([origin], { signal, timeoutMs: ORIGIN_CONNECT_MS })
        } catch (err) {
          if (signal.aborted) throw err
          unreachable.push(`${origin}: ${(err as Error).message}`)
        }
      }
      r.info = { status_details: 'pinning: Kubo is fetching the DAG', ...(replaces ? { replaces } : {}) }
      let pins: string[] = []
      for await (const event of kubo.rpc.pinAdd(
        r.cid,
        { recursive: true, ...(r.name ? { name: r.name } : {}) },
        { signal, timeoutMs: PIN_SILENCE_MS },
      )) {
        if (event.progress !== undefined)
          r.info = { ...r.info, status_details: `pinning: ${event.progress} blocks fetched so far` }
        if (event.pins) pins = event.pins
      }
      await this.#o.recordChange(pins.length > 0 ? pins : [r.cid], 'pin.add')
      const info: Record<string, string> = {}
      if (unreachable.length > 0) info.origins_unreachable = unreachable.join('; ').slice(0, 1000)
      await update('pinned', info)
      // A replacement is done: the request it replaces goes, and with it its pin if no one else holds it.
      if (replaces)
        await this.#dropReplaced(replaces).catch((err: Error) =>
          this.#o.log.warn('could not remove what a pin request replaced', {
            requestid: replaces,
            error: err.message,
          }),
        )
    } catch (err) {
      if (signal.aborted) {
        // Stopped (queued again at the next start) or removed (gone already).
        if (this.#requests.has(r.requestid) && this.#state !== 'ready') r.status = 'queued'
        return
      }
      const message = err instanceof Error ? err.message : String(err)
      this.#o.log.warn('pin request failed', { requestid: r.requestid, cid: r.cid, error: message })
      await update('failed', { status_details: message.slice(0, 1000) }).catch(() => {})
    }
  }
}

function compareTimes(
  a: { created: Date; created_ns: number } | PinRequestRow,
  b: { created: Date; created_ns: number } | CreatedAt,
): number {
  const bms = 'ms' in b ? b.ms : b.created.getTime()
  const bns = 'ms' in b ? b.ns : b.created_ns
  return a.created.getTime() - bms || a.created_ns - bns
}
