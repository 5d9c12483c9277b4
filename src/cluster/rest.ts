// A thin, typed client for IPFS Cluster's REST API (api/rest in ipfs-cluster) on node:http: GET
// only (ipfs-kit reads the cluster, it never pins through it), a timeout and an AbortSignal on
// every call, streams (`/allocations`, `/pins`, `/peers`) read line by line with their
// X-Stream-Error trailer checked, and every answer checked for shape before it is used.
import type { IncomingMessage } from 'node:http'
import { AbortedError, ClusterApiError, ClusterUnreachableError, IpfsKitError } from '../errors.js'
import { type ApiAddress, describeAddress } from '../kubo/address.js'
import { authorizationHeader } from '../kubo/rpc.js'
import { ndjsonValues } from '../net/ndjson.js'
import { type OpenedResponse, openRequest } from '../net/request.js'
import type { ClusterPeerRow } from '../store/cluster-pins-format.js'

export interface ClusterCallOptions {
  signal?: AbortSignal
  /** For a unary call: the whole call. For a stream: the wait for headers and the longest silence. */
  timeoutMs?: number
}

/** `GET /id`: the peer answering, and the Kubo it fronts. */
export interface ClusterId {
  id: string
  peername: string
  version: string
  cluster_peers: string[]
  addresses: string[]
  /** The Kubo peer this Cluster peer pins on, or null when it cannot reach it. */
  ipfs_id: string | null
  ipfs_error: string | null
  error: string | null
}

/** One pin of the shared pinset (`GET /allocations`): what the cluster wants pinned, and where. */
export interface ClusterPin {
  cid: string
  name: string
  /** pin, meta-pin, clusterdag-pin or shard-pin. */
  type: string
  replication_min: number
  replication_max: number
  /** The Cluster peers it is allocated to; empty when every peer pins it (replication -1). */
  allocations: string[]
  metadata: Record<string, string>
  /** When the pin was made, as Cluster recorded it; null when it has none. */
  timestamp: Date | null
  expire_at: Date | null
}

/** One peer's view of one pin (the `peer_map` of `GET /pins`). */
export interface ClusterPeerStatus {
  peername: string
  ipfs_peer_id: string | null
  /** pinned, pinning, queued, pin_error, unpinned, remote, cluster_error, ... as Cluster names them. */
  status: string
  /** When that peer's status last changed, as that peer reports it. */
  timestamp: string | null
  error: string | null
}

/** `GET /pins` (or `/pins/<cid>`): a pin with every peer's status. */
export interface ClusterPinStatus {
  cid: string
  name: string
  allocations: string[]
  peer_map: Record<string, ClusterPeerStatus>
}

/** Each peer's status of one pin, as the index keeps it: status, its time, the error if any. */
export function peerStatusOf(
  s: ClusterPinStatus,
): Record<string, { status: string; timestamp: string | null; error?: string }> {
  const out: Record<string, { status: string; timestamp: string | null; error?: string }> = {}
  for (const peer of Object.keys(s.peer_map).sort()) {
    const p = s.peer_map[peer] as ClusterPeerStatus
    out[peer] = { status: p.status, timestamp: p.timestamp, ...(p.error ? { error: p.error } : {}) }
  }
  return out
}

/** `GET /monitor/metrics/freespace`: a peer's last free-space figure. */
export interface ClusterMetric {
  peer: string
  value: string
  valid: boolean
  /** Unix nanoseconds. */
  expire: number
}

export interface ClusterRestOptions {
  address: ApiAddress
  /** 'basic:<user>:<password>' or 'bearer:<token>' (Cluster's basic_auth_credentials or a JWT). */
  auth?: string | null
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 30_000
const MAX_UNARY_BYTES = 16 * 1024 * 1024

// Shape checks: an answer is read as unknown and checked, so garbage becomes a ClusterApiError.
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const strOr = (v: unknown, d: string) => (typeof v === 'string' ? v : d)
const strList = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
/** Cluster writes Go's zero time for "none"; JSON null too. */
function timeOf(v: unknown): Date | null {
  if (typeof v !== 'string' || v.startsWith('0001-01-01')) return null
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? null : d
}
/** Cluster's JSON CIDs: a string, or `{"/": "<cid>"}` in some versions. */
function cidOf(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v
  if (isObj(v) && typeof v['/'] === 'string') return v['/']
  return null
}

export class ClusterRest {
  readonly address: ApiAddress
  readonly #auth: string | undefined
  readonly #timeoutMs: number

  constructor(options: ClusterRestOptions) {
    this.address = options.address
    this.#auth = options.auth ? authorizationHeader(options.auth, 'cluster.auth') : undefined
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  get where(): string {
    return describeAddress(this.address)
  }

  async id(options?: ClusterCallOptions): Promise<ClusterId> {
    return this.#peer('/id', await this.json('/id', options))
  }

  /** `GET /peers`: every peer of the cluster as this peer knows it (one that cannot be reached carries an error). */
  async *peers(options?: ClusterCallOptions): AsyncGenerator<ClusterId> {
    for await (const v of this.ndjson('/peers', options)) yield this.#peer('/peers', v)
  }

  /**
   * Every peer with its Kubo, its last free-space metric (Cluster's disk informer; null when it
   * sent none or the metrics cannot be read) and why it cannot be reached, sorted by ID.
   */
  async peerRows(options?: ClusterCallOptions): Promise<ClusterPeerRow[]> {
    const free = new Map<string, number>()
    try {
      for (const m of await this.freeSpace(options))
        if (m.valid && /^\d+$/.test(m.value)) free.set(m.peer, Number(m.value))
    } catch (err) {
      if (options?.signal?.aborted) throw err
    }
    const peers: ClusterPeerRow[] = []
    for await (const p of this.peers(options)) {
      peers.push({
        id: p.id,
        peername: p.peername,
        ipfs_peer_id: p.ipfs_id,
        free_space_bytes: free.get(p.id) ?? null,
        error: p.error ?? p.ipfs_error,
      })
    }
    return peers.sort((a, b) => (a.id < b.id ? -1 : 1))
  }

  /** `GET /allocations?filter=all`: the shared pinset from this peer's copy of the state (no fan-out). */
  async *allocations(options?: ClusterCallOptions): AsyncGenerator<ClusterPin> {
    for await (const v of this.ndjson('/allocations?filter=all', options)) yield this.#pin(v)
  }

  /** `GET /allocations/<cid>`: one pin of the shared pinset, or null when the cluster has none. */
  async allocation(cid: string, options?: ClusterCallOptions): Promise<ClusterPin | null> {
    const path = `/allocations/${encodeURIComponent(cid)}`
    try {
      return this.#pin(await this.json(path, options))
    } catch (err) {
      if (err instanceof ClusterApiError && err.status === 404) return null
      throw err
    }
  }

  /** `GET /pins/<cid>`: one pin with the status of every peer. */
  async status(cid: string, options?: ClusterCallOptions): Promise<ClusterPinStatus> {
    return this.#status(await this.json(`/pins/${encodeURIComponent(cid)}`, options))
  }

  /** `GET /pins`: every pin with the status of every peer (asks every peer: the costly call). */
  async *statusAll(options?: ClusterCallOptions): AsyncGenerator<ClusterPinStatus> {
    for await (const v of this.ndjson('/pins', options)) yield this.#status(v)
  }

  /** `GET /monitor/metrics/freespace`: the free-space metric of each peer that sent one. */
  async freeSpace(options?: ClusterCallOptions): Promise<ClusterMetric[]> {
    const v = await this.json('/monitor/metrics/freespace', options)
    if (v === null) return []
    if (!Array.isArray(v)) throw this.#garbage('/monitor/metrics/freespace', 'it is not a list')
    return v.filter(isObj).map((m) => ({
      peer: strOr(m.peer, ''),
      value: strOr(m.value, ''),
      valid: m.valid === true,
      expire: typeof m.expire === 'number' ? m.expire : 0,
    }))
  }

  #peer(path: string, v: unknown): ClusterId {
    if (!isObj(v) || typeof v.id !== 'string' || v.id === '') throw this.#garbage(path, 'a peer has no ID')
    const ipfs = isObj(v.ipfs) ? v.ipfs : {}
    const text = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null)
    return {
      id: v.id,
      peername: strOr(v.peername, ''),
      version: strOr(v.version, ''),
      cluster_peers: strList(v.cluster_peers),
      addresses: strList(v.addresses),
      ipfs_id: text(ipfs.id),
      ipfs_error: text(ipfs.error),
      error: text(v.error),
    }
  }

  #pin(v: unknown): ClusterPin {
    const cid = isObj(v) ? cidOf(v.cid) : null
    if (!isObj(v) || cid === null) throw this.#garbage('/allocations', 'a pin has no CID')
    const metadata: Record<string, string> = {}
    if (isObj(v.metadata))
      for (const [k, x] of Object.entries(v.metadata)) if (typeof x === 'string') metadata[k] = x
    const int = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? x : 0)
    return {
      cid,
      name: strOr(v.name, ''),
      type: strOr(v.type, 'pin'),
      replication_min: int(v.replication_factor_min),
      replication_max: int(v.replication_factor_max),
      allocations: strList(v.allocations),
      metadata,
      timestamp: timeOf(v.timestamp),
      expire_at: timeOf(v.expire_at),
    }
  }

  #status(v: unknown): ClusterPinStatus {
    const cid = isObj(v) ? cidOf(v.cid) : null
    if (!isObj(v) || cid === null) throw this.#garbage('/pins', 'a status has no CID')
    const peerMap: Record<string, ClusterPeerStatus> = {}
    if (isObj(v.peer_map)) {
      for (const [peer, s] of Object.entries(v.peer_map)) {
        if (!isObj(s)) continue
        peerMap[peer] = {
          peername: strOr(s.peername, ''),
          ipfs_peer_id: typeof s.ipfs_peer_id === 'string' && s.ipfs_peer_id !== '' ? s.ipfs_peer_id : null,
          status: strOr(s.status, 'undefined'),
          timestamp: timeOf(s.timestamp)?.toISOString() ?? null,
          error: typeof s.error === 'string' && s.error !== '' ? s.error : null,
        }
      }
    }
    return { cid, name: strOr(v.name, ''), allocations: strList(v.allocations), peer_map: peerMap }
  }

  #garbage(path: string, why: string): ClusterApiError {
    return new ClusterApiError(`Cluster's answer to ${path} at ${this.where} is not a valid answer: ${why}`)
  }

  // --- transport ---------------------------------------------------------------------------

  /** One unary call: the JSON answer (null for 204 No Content). */
  async json(path: string, options?: ClusterCallOptions): Promise<unknown> {
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs
    const { res, done, stoppedBy } = await this.#get(path, options?.signal, timeoutMs, 'total')
    try {
      if (res.statusCode === 204) return null
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > MAX_UNARY_BYTES)
          throw new ClusterApiError(`Cluster's answer to ${path} exceeds ${MAX_UNARY_BYTES} bytes`)
        chunks.push(chunk)
      }
      if (!res.complete) throw new ClusterApiError(`Cluster's answer to ${path} at ${this.where} was cut`)
      const text = Buffer.concat(chunks).toString('utf8').trim()
      try {
        return JSON.parse(text)
      } catch {
        throw this.#garbage(path, `not JSON: ${JSON.stringify(text.slice(0, 120))}`)
      }
    } catch (err) {
      throw stoppedBy() ?? this.#translate(err, path, options?.signal)
    } finally {
      done()
    }
  }

  /** A streamed call: one JSON value per line; nothing for 204 No Content (an empty pinset). */
  async *ndjson(path: string, options?: ClusterCallOptions): AsyncGenerator<unknown> {
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs
    const { res, done, stoppedBy } = await this.#get(path, options?.signal, timeoutMs, 'idle')
    try {
      if (res.statusCode === 204) return
      yield* ndjsonValues(
        res,
        (message) => new ClusterApiError(`Cluster's stream ${path} at ${this.where} ${message}`),
        () => {
          if (!res.complete)
            throw new ClusterApiError(`Cluster's stream ${path} at ${this.where} was cut before it ended`)
          const trailer = res.trailers['x-stream-error']
          if (trailer) throw new ClusterApiError(`Cluster's stream ${path} ended with an error: ${trailer}`)
        },
      )
    } catch (err) {
      throw stoppedBy() ?? this.#translate(err, path, options?.signal)
    } finally {
      done()
    }
  }

  #get(
    path: string,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    timeoutKind: 'total' | 'idle',
  ): Promise<OpenedResponse> {
    const headers: Record<string, string> = {}
    if (this.#auth) headers.authorization = this.#auth
    return openRequest({
      address: this.address,
      method: 'GET',
      path,
      headers,
      agent: false,
      signal,
      timeoutMs,
      timeoutKind,
      aborted: () => new AbortedError(`Cluster API ${path} aborted`),
      timedOut: () =>
        new ClusterUnreachableError(
          `IPFS Cluster's REST API at ${this.where} did not answer ${path} within ${timeoutMs} ms`,
          {
            hint: 'the Cluster peer may be overloaded, or asking peers that do not answer; see `ipfs-kit daemon status`',
          },
        ),
      translate: (err) => this.#translate(err, path, signal),
      errorFromBody: (status, res) => errorFromBody(path, status, res, this.where),
    })
  }

  #translate(err: unknown, path: string, signal: AbortSignal | undefined): Error {
    if (err instanceof IpfsKitError) return err
    if (signal?.aborted) return new AbortedError(`Cluster API ${path} aborted`)
    const e = err as NodeJS.ErrnoException
    if (
      ['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND'].includes(
        e.code ?? '',
      )
    ) {
      return new ClusterUnreachableError(
        `IPFS Cluster's REST API at ${this.where} is not reachable (${e.code}); is the Cluster peer running?`,
        {
          hint: 'start it with `ipfs-kit daemon start` and cluster.enabled: true, or set cluster.api to where it listens',
          cause: err,
        },
      )
    }
    return new ClusterApiError(
      `Cluster API ${path} at ${this.where} failed: ${e.message} (${e.code ?? 'no code'})`,
      {
        cause: err,
      },
    )
  }
}

/** Cluster's error body is `{"code": <n>, "message": "<why>"}`. */
async function errorFromBody(
  path: string,
  status: number,
  res: IncomingMessage,
  where: string,
): Promise<Error> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 64 * 1024) break
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  let message = text.slice(0, 200) || res.statusMessage || 'no body'
  try {
    const body = JSON.parse(text) as { message?: unknown }
    if (typeof body.message === 'string') message = body.message
  } catch {
    // not Cluster's JSON error body: the raw text above
  }
  const hint =
    status === 401 || status === 403
      ? "Cluster's REST API requires credentials: set cluster.auth in config.yaml (as in its basic_auth_credentials)"
      : undefined
  return new ClusterApiError(`Cluster API ${path} at ${where} failed (HTTP ${status}): ${message}`, {
    status,
    ...(hint ? { hint } : {}),
  })
}
