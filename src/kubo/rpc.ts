// A thin, typed client for Kubo's RPC API on node:http: POST only, a timeout and an AbortSignal on
// every call, NDJSON streams read line by line (a million pins are never one document), and
// Kubo's error bodies and X-Stream-Error trailers turned into typed errors.
import { Agent, type IncomingMessage } from 'node:http'
import {
  AbortedError,
  ConfigError,
  IpfsKitError,
  KuboResponseError,
  KuboRpcError,
  KuboStreamError,
  KuboTimeoutError,
  KuboUnreachableError,
} from '../errors.js'
import { ndjsonValues } from '../net/ndjson.js'
import { type OpenedResponse, openRequest } from '../net/request.js'
import { type ApiAddress, describeAddress } from './address.js'

export { MAX_NDJSON_LINE_BYTES } from '../net/ndjson.js'

export interface CallOptions {
  signal?: AbortSignal
  /** For a unary call: the whole call. For a stream: the wait for headers and the longest silence between chunks. */
  timeoutMs?: number
}

export interface KuboRpcOptions {
  address: ApiAddress
  /** Kubo's AuthSecret format: 'bearer:<token>' or 'basic:<user>:<password>'. */
  auth?: string | null
  /** Default timeout of every call, in ms. */
  timeoutMs?: number
  /**
   * Reuse connections between calls (the manager, which makes many small calls: one root block
   * per pin while examining content). Off by default: a CLI makes few calls, and no pooled
   * socket may keep it alive once it has answered.
   */
  keepAlive?: boolean
}

type Params = Record<string, string | number | boolean | undefined | Array<string>>

export type PinType = 'recursive' | 'direct' | 'indirect'
export interface PinEntry {
  cid: string
  type: PinType
  name: string | null
}

export interface IdResult {
  id: string
  agentVersion: string | null
  addresses: string[]
}
export interface VersionResult {
  version: string
  commit: string | null
  repo: string | null
  system: string | null
  golang: string | null
}
export interface RepoStat {
  repoSize: number
  storageMax: number
  /** Absent (null) for a size-only call. */
  numObjects: number | null
  repoPath: string | null
  version: string | null
}
export interface SwarmPeer {
  peer: string
  addr: string
  latency: string | null
  direction: 'inbound' | 'outbound' | null
  muxer: string | null
  /** With `identify`: the agent and protocols the peer announced (null: not identified yet). */
  agent?: string | null
  protocols?: string[] | null
  /** With `streams`: how many streams are open to it. */
  streams?: number | null
}
export interface BandwidthStats {
  totalIn: number
  totalOut: number
  rateIn: number
  rateOut: number
}
export interface BitswapStat {
  blocksReceived: number
  dataReceived: number
  dupBlksReceived: number
  dupDataReceived: number
  blocksSent: number
  dataSent: number
  messagesReceived: number | null
  wantlistLength: number
  peerCount: number
}
export interface FilesStat {
  hash: string
  size: number
  cumulativeSize: number
  blocks: number
  type: string
}
export interface DagStat {
  cid: string
  /** Bytes of every block of the DAG, as `ipfs dag stat` reports Size. */
  size: number
  numBlocks: number
}
export interface DagStatSummary {
  dags: DagStat[]
  /** Bytes of all the DAGs' blocks, a block that several DAGs share counted once (Kubo's TotalSize). */
  totalSize: number
  /** How much more the sum of the DAGs' sizes is than totalSize: the bytes of shared blocks, counted again for each further DAG. */
  sharedSize: number
}
export interface PinAddProgress {
  /** Nodes fetched so far, while Kubo walks the DAG. */
  progress?: number
  /** The pinned CIDs, once done. */
  pins?: string[]
}

const DEFAULT_TIMEOUT_MS = 30_000
/** A unary answer larger than this is not an answer Kubo gives: refuse instead of buffering it. */
const MAX_UNARY_BYTES = 64 * 1024 * 1024
/** Kubo refuses blocks over 2 MiB by default (4 MiB with a setting): a larger answer is not a block. */
const MAX_BLOCK_BYTES = 8 * 1024 * 1024

export function authorizationHeader(auth: string, key = 'kubo.auth'): string {
  const colon = auth.indexOf(':')
  const scheme = colon > 0 ? auth.slice(0, colon).toLowerCase() : ''
  const secret = auth.slice(colon + 1)
  if (scheme === 'bearer') return `Bearer ${secret}`
  if (scheme === 'basic') return `Basic ${Buffer.from(secret).toString('base64')}`
  // Same format as Kubo's API.Authorizations AuthSecret; never echo the secret itself.
  throw new ConfigError(`${key} must look like 'bearer:<token>' or 'basic:<user>:<password>'`)
}

function queryString(params: Params): string {
  const q = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) q.append(key, v)
    else q.append(key, String(value))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

// Shape checks: Kubo's answers are read as unknown and checked, so garbage becomes a typed error.
function obj(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KuboResponseError(`Kubo's answer to ${what} is not a JSON object`)
  }
  return value as Record<string, unknown>
}
function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key]
  if (typeof v !== 'string')
    throw new KuboResponseError(`Kubo's answer to ${what} has no string field ${key}`)
  return v
}
function optStr(o: Record<string, unknown>, key: string): string | null {
  const v = o[key]
  return typeof v === 'string' && v !== '' ? v : null
}
function num(o: Record<string, unknown>, key: string, what: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new KuboResponseError(`Kubo's answer to ${what} has no numeric field ${key}`)
  }
  return v
}
/** A number Kubo writes with `omitempty`: absent is 0, anything but a number is garbage. */
function zeroIfOmitted(o: Record<string, unknown>, key: string, what: string): number {
  return key in o ? num(o, key, what) : 0
}
function optNum(o: Record<string, unknown>, key: string): number | null {
  const v = o[key]
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** The agent and protocols of a peer's Identify record in swarm/peers (null when Kubo has none). */
function identifyOf(value: unknown): { agent: string | null; protocols: string[] | null } {
  if (typeof value !== 'object' || value === null) return { agent: null, protocols: null }
  const id = value as Record<string, unknown>
  const protocols = Array.isArray(id.Protocols)
    ? id.Protocols.filter((p): p is string => typeof p === 'string' && p !== '' && !/\s/.test(p))
    : null
  return {
    agent: optStr(id, 'AgentVersion'),
    protocols: protocols && protocols.length > 0 ? protocols : null,
  }
}

export class KuboRpc {
  readonly address: ApiAddress
  readonly #authHeader: string | undefined
  readonly #timeoutMs: number
  readonly #agent: Agent | false

  constructor(options: KuboRpcOptions) {
    this.address = options.address
    this.#authHeader = options.auth ? authorizationHeader(options.auth) : undefined
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#agent = options.keepAlive ? new Agent({ keepAlive: true, maxSockets: 8 }) : false
  }

  /** Where this client sends its calls, for messages. */
  get where(): string {
    return describeAddress(this.address)
  }

  // --- typed calls -------------------------------------------------------------------------

  async id(options?: CallOptions): Promise<IdResult> {
    const o = obj(await this.json('id', {}, options), 'id')
    const addresses = Array.isArray(o.Addresses)
      ? o.Addresses.filter((a): a is string => typeof a === 'string')
      : []
    return { id: str(o, 'ID', 'id'), agentVersion: optStr(o, 'AgentVersion'), addresses }
  }

  async version(options?: CallOptions): Promise<VersionResult> {
    const o = obj(await this.json('version', {}, options), 'version')
    return {
      version: str(o, 'Version', 'version'),
      commit: optStr(o, 'Commit'),
      repo: optStr(o, 'Repo'),
      system: optStr(o, 'System'),
      golang: optStr(o, 'Golang'),
    }
  }

  /**
   * Streams pins one at a time (`pin/ls` with `stream=true`). Use type 'recursive' and 'direct'
   * for the pinset: 'indirect' and 'all' walk every DAG. `cid` asks about one CID only.
   */
  async *pinLs(
    query: { type?: PinType | 'all'; names?: boolean; cid?: string } = {},
    options?: CallOptions,
  ): AsyncGenerator<PinEntry> {
    const params: Params = { stream: true, type: query.type ?? 'all', names: query.names ?? true }
    if (query.cid) params.arg = query.cid
    for await (const line of this.ndjson('pin/ls', params, options)) {
      const o = obj(line, 'pin/ls')
      const type = str(o, 'Type', 'pin/ls')
      if (type !== 'recursive' && type !== 'direct' && !type.startsWith('indirect')) {
        throw new KuboResponseError(`Kubo's answer to pin/ls has an unknown pin type ${JSON.stringify(type)}`)
      }
      yield {
        cid: str(o, 'Cid', 'pin/ls'),
        // Kubo says "indirect through <cid>" for indirect pins.
        type: type.startsWith('indirect') ? 'indirect' : (type as PinType),
        name: optStr(o, 'Name'),
      }
    }
  }

  /** How many peers each DHT's routing table holds (`wan`, `lan`), from stats/dht. */
  async dhtRoutingTables(options?: CallOptions): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for await (const line of this.ndjson('stats/dht', {}, options)) {
      const o = obj(line, 'stats/dht')
      const name = str(o, 'Name', 'stats/dht')
      const buckets = Array.isArray(o.Buckets) ? o.Buckets : []
      out[name] = buckets.reduce(
        (n: number, b) =>
          n +
          (Array.isArray((b as { Peers?: unknown })?.Peers) ? (b as { Peers: unknown[] }).Peers.length : 0),
        0,
      )
    }
    return out
  }

  /** Pins a CID; yields progress (nodes fetched) while Kubo walks the DAG, and the pins at the end. */
  async *pinAdd(
    cid: string,
    pin: { recursive?: boolean; name?: string } = {},
    options?: CallOptions,
  ): AsyncGenerator<PinAddProgress> {
    const params: Params = { arg: cid, recursive: pin.recursive ?? true, progress: true, name: pin.name }
    for await (const line of this.ndjson('pin/add', params, options)) {
      const o = obj(line, 'pin/add')
      const pins = Array.isArray(o.Pins)
        ? o.Pins.filter((p): p is string => typeof p === 'string')
        : undefined
      const progress = optNum(o, 'Progress')
      yield { ...(progress !== null ? { progress } : {}), ...(pins ? { pins } : {}) }
    }
  }

  async pinRm(cid: string, pin: { recursive?: boolean } = {}, options?: CallOptions): Promise<string[]> {
    const o = obj(
      await this.json('pin/rm', { arg: cid, recursive: pin.recursive ?? true }, options),
      'pin/rm',
    )
    return Array.isArray(o.Pins) ? o.Pins.filter((p): p is string => typeof p === 'string') : []
  }

  /**
   * `dag stat` of these roots, without fetching (offline: a missing block fails the call with
   * Kubo's "not found locally"). Kubo walks each DAG once; one failing root fails the call.
   */
  async dagStat(
    cids: readonly string[],
    options?: CallOptions & { offline?: boolean },
  ): Promise<DagStatSummary> {
    const o = obj(
      await this.json(
        'dag/stat',
        { arg: [...cids], progress: false, offline: options?.offline ?? true },
        options,
      ),
      'dag/stat',
    )
    const w = 'dag/stat'
    const list = Array.isArray(o.DagStats) ? o.DagStats : []
    const dags = list.map((d) => {
      const e = obj(d, w)
      // The Cid is a string in Kubo 0.43's JSON, a {"/": ...} link in some versions.
      const raw = e.Cid
      const cid =
        typeof raw === 'string'
          ? raw
          : typeof (raw as { '/'?: unknown })?.['/'] === 'string'
            ? (raw as { '/': string })['/']
            : null
      if (cid === null)
        throw new KuboResponseError(`Kubo's answer to ${w} has a DagStats entry without a Cid`)
      // Kubo leaves out a field that is zero (`omitempty`): an empty DAG has no Size.
      return { cid, size: zeroIfOmitted(e, 'Size', w), numBlocks: num(e, 'NumBlocks', w) }
    })
    return { dags, totalSize: zeroIfOmitted(o, 'TotalSize', w), sharedSize: optNum(o, 'SharedSize') ?? 0 }
  }

  /** One block's bytes (`block/get`), without fetching it when offline. */
  async blockGet(cid: string, options?: CallOptions & { offline?: boolean }): Promise<Uint8Array> {
    return this.bytes('block/get', { arg: cid, offline: options?.offline ?? true }, options, MAX_BLOCK_BYTES)
  }

  /** The first `length` bytes of a UnixFS file (`cat`), without fetching when offline. */
  async cat(cid: string, length: number, options?: CallOptions & { offline?: boolean }): Promise<Uint8Array> {
    return this.bytes('cat', { arg: cid, length, offline: options?.offline ?? true }, options, length)
  }

  /**
   * The whole of several UnixFS files, one after another with nothing between (`cat` of many
   * paths), at most maxBytes in all: the caller knows each file's length and splits them. One
   * file that cannot be read fails the call.
   */
  async catMany(
    cids: readonly string[],
    maxBytes: number,
    options?: CallOptions & { offline?: boolean },
  ): Promise<Uint8Array> {
    return this.bytes('cat', { arg: [...cids], offline: options?.offline ?? true }, options, maxBytes)
  }

  async swarmPeers(
    query: { identify?: boolean; streams?: boolean } = {},
    options?: CallOptions,
  ): Promise<SwarmPeer[]> {
    const o = obj(
      await this.json(
        'swarm/peers',
        {
          latency: true,
          direction: true,
          ...(query.identify ? { identify: true } : {}),
          ...(query.streams ? { streams: true } : {}),
        },
        options,
      ),
      'swarm/peers',
    )
    if (o.Peers === null || o.Peers === undefined) return []
    if (!Array.isArray(o.Peers)) throw new KuboResponseError("Kubo's answer to swarm/peers has no Peers list")
    return o.Peers.map((p) => {
      const peer = obj(p, 'swarm/peers')
      const dir = peer.Direction
      return {
        peer: str(peer, 'Peer', 'swarm/peers'),
        addr: str(peer, 'Addr', 'swarm/peers'),
        latency: optStr(peer, 'Latency'),
        // Kubo encodes libp2p's network.Direction: 1 inbound, 2 outbound, 0 unknown.
        direction: dir === 1 ? 'inbound' : dir === 2 ? 'outbound' : null,
        muxer: optStr(peer, 'Muxer'),
        ...(query.identify ? identifyOf(peer.Identify) : {}),
        ...(query.streams ? { streams: Array.isArray(peer.Streams) ? peer.Streams.length : null } : {}),
      }
    })
  }

  /** Connects to a peer at these addresses (`swarm/connect`); Kubo's error when it cannot. */
  async swarmConnect(addrs: readonly string[], options?: CallOptions): Promise<string[]> {
    const o = obj(await this.json('swarm/connect', { arg: [...addrs] }, options), 'swarm/connect')
    return Array.isArray(o.Strings) ? o.Strings.filter((x): x is string => typeof x === 'string') : []
  }

  async repoStat(query: { sizeOnly?: boolean } = {}, options?: CallOptions): Promise<RepoStat> {
    const sizeOnly = query.sizeOnly ?? false
    const o = obj(await this.json('repo/stat', { 'size-only': sizeOnly }, options), 'repo/stat')
    return {
      repoSize: num(o, 'RepoSize', 'repo/stat'),
      storageMax: num(o, 'StorageMax', 'repo/stat'),
      numObjects: sizeOnly ? null : optNum(o, 'NumObjects'),
      repoPath: optStr(o, 'RepoPath'),
      version: optStr(o, 'Version'),
    }
  }

  /** The node's bandwidth, or one peer's (Kubo counts it since it first saw that peer). */
  async statsBw(query: { peer?: string } = {}, options?: CallOptions): Promise<BandwidthStats> {
    const o = obj(await this.json('stats/bw', query.peer ? { peer: query.peer } : {}, options), 'stats/bw')
    return {
      totalIn: num(o, 'TotalIn', 'stats/bw'),
      totalOut: num(o, 'TotalOut', 'stats/bw'),
      rateIn: num(o, 'RateIn', 'stats/bw'),
      rateOut: num(o, 'RateOut', 'stats/bw'),
    }
  }

  async bitswapStat(options?: CallOptions): Promise<BitswapStat> {
    const o = obj(await this.json('bitswap/stat', {}, options), 'bitswap/stat')
    const w = 'bitswap/stat'
    return {
      blocksReceived: num(o, 'BlocksReceived', w),
      dataReceived: num(o, 'DataReceived', w),
      dupBlksReceived: num(o, 'DupBlksReceived', w),
      dupDataReceived: num(o, 'DupDataReceived', w),
      blocksSent: num(o, 'BlocksSent', w),
      dataSent: num(o, 'DataSent', w),
      messagesReceived: optNum(o, 'MessagesReceived'),
      wantlistLength: Array.isArray(o.Wantlist) ? o.Wantlist.length : 0,
      peerCount: Array.isArray(o.Peers) ? o.Peers.length : 0,
    }
  }

  async filesStat(path = '/', options?: CallOptions): Promise<FilesStat> {
    const o = obj(await this.json('files/stat', { arg: path }, options), 'files/stat')
    return {
      hash: str(o, 'Hash', 'files/stat'),
      size: num(o, 'Size', 'files/stat'),
      cumulativeSize: num(o, 'CumulativeSize', 'files/stat'),
      blocks: num(o, 'Blocks', 'files/stat'),
      type: str(o, 'Type', 'files/stat'),
    }
  }

  /** Kubo's own configuration (secrets such as Identity.PrivKey are removed by Kubo). */
  async configShow(options?: CallOptions): Promise<Record<string, unknown>> {
    return obj(await this.json('config/show', {}, options), 'config/show')
  }

  /** Asks the daemon to shut down; it answers before it is gone. */
  async shutdown(options?: CallOptions): Promise<void> {
    await this.json('shutdown', {}, options, { allowEmpty: true })
  }

  // --- transport ---------------------------------------------------------------------------

  /** One unary call: the whole JSON answer, bounded in size. */
  async json(
    command: string,
    params: Params,
    options?: CallOptions,
    how: { allowEmpty?: boolean } = {},
  ): Promise<unknown> {
    // A unary JSON answer is judged by its content (a cut one does not parse), as Kubo's shutdown
    // answer may be cut by the shutdown itself.
    const text = Buffer.from(await this.bytes(command, params, options, MAX_UNARY_BYTES, { whole: false }))
      .toString('utf8')
      .trim()
    if (text === '') {
      if (how.allowEmpty) return null
      throw new KuboResponseError(`Kubo's answer to ${command} is empty`)
    }
    try {
      // Some commands answer a value per line even without streaming; the last one is the result.
      const lines = text.split('\n')
      return JSON.parse(lines[lines.length - 1] ?? '')
    } catch {
      throw new KuboResponseError(
        `Kubo's answer to ${command} at ${this.where} is not JSON: ${JSON.stringify(text.slice(0, 120))}`,
      )
    }
  }

  /** One call whose answer is bytes (a block, the start of a file), at most maxBytes of them. */
  async bytes(
    command: string,
    params: Params,
    options: CallOptions | undefined,
    maxBytes: number,
    how: { whole?: boolean } = {},
  ): Promise<Uint8Array> {
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs
    const { res, done, stoppedBy } = await this.#post(command, params, options?.signal, timeoutMs, 'total')
    try {
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > maxBytes)
          throw new KuboResponseError(`Kubo's answer to ${command} exceeds ${maxBytes} bytes`)
        chunks.push(chunk)
      }
      if (how.whole !== false && !res.complete)
        throw new KuboStreamError(`Kubo's answer to ${command} at ${this.where} was cut before it ended`)
      this.#checkTrailer(command, res)
      // A view of the joined bytes, not a copy of them (new Uint8Array(buffer) copies).
      const all = Buffer.concat(chunks, size)
      return new Uint8Array(all.buffer, all.byteOffset, all.length)
    } catch (err) {
      throw stoppedBy() ?? this.#translate(err, command, options?.signal)
    } finally {
      done()
    }
  }

  /** A streamed call: one parsed JSON value per line, read as the bytes arrive. */
  async *ndjson(command: string, params: Params, options?: CallOptions): AsyncGenerator<unknown> {
    const timeoutMs = options?.timeoutMs ?? this.#timeoutMs
    const { res, done, stoppedBy } = await this.#post(command, params, options?.signal, timeoutMs, 'idle')
    try {
      yield* ndjsonValues(
        res,
        (message) => new KuboResponseError(`Kubo's stream ${command} at ${this.where} ${message}`),
        () => {
          if (!res.complete)
            throw new KuboStreamError(`Kubo's stream ${command} at ${this.where} was cut before it ended`)
          this.#checkTrailer(command, res)
        },
      )
    } catch (err) {
      throw stoppedBy() ?? this.#translate(err, command, options?.signal)
    } finally {
      done()
    }
  }

  #checkTrailer(command: string, res: IncomingMessage): void {
    const streamError = res.trailers['x-stream-error']
    if (streamError) throw new KuboStreamError(`Kubo's stream ${command} ended with an error: ${streamError}`)
  }

  #post(
    command: string,
    params: Params,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    timeoutKind: 'total' | 'idle',
  ): Promise<OpenedResponse> {
    const headers: Record<string, string> = { 'content-length': '0' }
    if (this.#authHeader) headers.authorization = this.#authHeader
    return openRequest({
      address: this.address,
      method: 'POST',
      path: `/api/v0/${command}${queryString(params)}`,
      headers,
      // A CLI's calls each get their own connection (keepAlive off): no pooled socket keeps it alive.
      agent: this.#agent,
      signal,
      timeoutMs,
      timeoutKind,
      aborted: () => new AbortedError(`Kubo RPC ${command} aborted`),
      timedOut: () =>
        new KuboTimeoutError(`Kubo RPC ${command} at ${this.where} did not answer within ${timeoutMs} ms`, {
          hint: 'the daemon may be overloaded or frozen; check it with `ipfs-kit doctor`',
        }),
      translate: (err) => this.#translate(err, command, signal),
      errorFromBody: (status, res) => this.#errorFromBody(command, status, res),
    })
  }

  async #errorFromBody(command: string, status: number, res: IncomingMessage): Promise<IpfsKitError> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > 1024 * 1024) break
      chunks.push(chunk)
    }
    const text = Buffer.concat(chunks).toString('utf8').trim()
    const authHint =
      status === 401 || status === 403
        ? 'Kubo requires API credentials: set kubo.auth in config.yaml or IPFS_KIT_KUBO_AUTH (as in API.Authorizations)'
        : undefined
    try {
      const body = JSON.parse(text) as { Message?: unknown; Code?: unknown }
      if (typeof body.Message === 'string') {
        return new KuboRpcError(
          command,
          status,
          body.Message,
          typeof body.Code === 'number' ? body.Code : null,
          authHint ? { hint: authHint } : undefined,
        )
      }
    } catch {
      // Not Kubo's JSON error body: report the raw text below.
    }
    const snippet = text.slice(0, 200) || res.statusMessage || 'no body'
    return new KuboRpcError(command, status, snippet, null, authHint ? { hint: authHint } : undefined)
  }

  #translate(err: unknown, command: string, signal: AbortSignal | undefined): Error {
    if (err instanceof IpfsKitError) return err
    if (signal?.aborted) return new AbortedError(`Kubo RPC ${command} aborted`)
    const e = err as NodeJS.ErrnoException
    const where = this.where
    switch (e.code) {
      case 'ECONNREFUSED':
      case 'ENOENT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'EADDRNOTAVAIL':
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new KuboUnreachableError(
          `Kubo RPC at ${where} is not reachable (${e.code}); is the daemon running?`,
          {
            hint: 'start it with `ipfs-kit daemon start`; an api file left by a daemon that died points nowhere',
            cause: err,
          },
        )
      case 'ECONNRESET':
      case 'EPIPE':
      case 'ERR_STREAM_PREMATURE_CLOSE':
        return new KuboStreamError(`Kubo RPC ${command} at ${where}: the connection was cut (${e.code})`, {
          cause: err,
        })
      default:
        if (e.code === 'HPE_INVALID_CONSTANT' || e.code?.startsWith('HPE_')) {
          return new KuboResponseError(`Kubo RPC at ${where} did not answer with valid HTTP (${e.code})`, {
            cause: err,
          })
        }
        return new KuboStreamError(`Kubo RPC ${command} at ${where} failed: ${e.message}`, { cause: err })
    }
  }
}
