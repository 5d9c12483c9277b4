// The Kubo RPC proxy, like IPFS Cluster's ipfsproxy: a Kubo RPC endpoint (`ipfs --api <proxy>`)
// that forwards every call to Kubo as it is (method, path, query, headers, the body streamed in
// both directions, status, trailers such as X-Stream-Error), and records the pin changes Kubo
// confirms (pin-changes.ts) in the index before the answer ends, so that `ipfs-kit pin list`
// shows them as soon as the `ipfs` command returns. It adds no credentials of its own: the
// caller's Authorization header goes to Kubo unchanged, and Kubo's API.Authorizations decide.
//
// Forwarding is node:http's own request and response streams, not an HTTP framework: a proxy
// must pass bytes, headers and trailers through untouched, which frameworks (and fetch, which
// drops trailers) do not.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { closeWithin, type ListenAddress, listenOn } from '../http/listen.js'
import type { ApiAddress } from '../kubo/address.js'
import type { Logger } from '../manager/log.js'
import { MAX_WATCHED_LINE, pinChangeReader } from './pin-changes.js'

/** How long the end of an answer may wait for its pin change to be recorded. */
const RECORD_TIMEOUT_MS = 10_000
/** Headers that belong to one connection, not to the call: never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'upgrade',
])
const STOP_GRACE_MS = 2_000

export type ProxyState = 'stopped' | 'listening' | 'failed' | 'stopping'

export interface ProxyStatus {
  state: ProxyState
  /** The multiaddr for `ipfs --api` (null until listening). */
  api: string | null
  error: string | null
  requests: number
  /** Calls whose pin changes were recorded, and the CIDs recorded. */
  pin_changes_recorded: number
  last_record_error: string | null
}

export interface KuboRpcProxyOptions {
  address: ListenAddress
  /** Where Kubo's API is now, or null while it is not up. */
  kubo: () => ApiAddress | null
  /** Records in the index what Kubo now holds for these CIDs. */
  record: (cids: string[], note: 'pin.add' | 'pin.rm' | null) => Promise<void>
  log: Logger
}

function forwardedHeaders(raw: string[], host: string | null): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower)) continue
    if (host !== null && lower === 'host') {
      out.push(name, host)
      continue
    }
    out.push(name, raw[i + 1] as string)
  }
  return out
}

export class KuboRpcProxy {
  readonly #o: KuboRpcProxyOptions
  #server: Server | null = null
  #state: ProxyState = 'stopped'
  #api: string | null = null
  #error: string | null = null
  #requests = 0
  #recorded = 0
  #lastRecordError: string | null = null

  constructor(options: KuboRpcProxyOptions) {
    this.#o = options
  }

  status(): ProxyStatus {
    return {
      state: this.#state,
      api: this.#api,
      error: this.#error,
      requests: this.#requests,
      pin_changes_recorded: this.#recorded,
      last_record_error: this.#lastRecordError,
    }
  }

  async start(): Promise<void> {
    if (this.#state === 'listening') return
    // Large buffers: a 100 MB add passes in fewer, larger chunks.
    const server = createServer({ highWaterMark: 1024 * 1024 }, (req, res) => this.#forward(req, res))
    server.headersTimeout = 60_000
    // A call may stream for hours (`pin add` of a large DAG, `add` of a large file): no timeout here.
    server.requestTimeout = 0
    let bound: number
    try {
      bound = await listenOn(server, this.#o.address, 'proxy.listen')
    } catch (err) {
      this.#state = 'failed'
      this.#error = (err as Error).message
      throw err
    }
    server.on('error', (err) => this.#o.log.error('proxy server error', { error: err.message }))
    const { host } = this.#o.address
    this.#api = `/${host.includes(':') ? 'ip6' : 'ip4'}/${host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host}/tcp/${bound}`
    this.#server = server
    this.#state = 'listening'
    this.#error = null
    this.#o.log.info('serving the Kubo RPC proxy', { api: this.#api })
  }

  async stop(): Promise<void> {
    const server = this.#server
    if (!server || this.#state !== 'listening') return
    this.#state = 'stopping'
    await closeWithin(server, STOP_GRACE_MS)
    this.#server = null
    this.#api = null
    this.#state = 'stopped'
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    this.#requests++
    const kubo = this.#o.kubo()
    const fail = (status: number, message: string) => {
      if (res.headersSent) {
        res.destroy()
        return
      }
      // Kubo's own error shape, so that the ipfs CLI prints the message.
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(`${JSON.stringify({ Message: message, Code: 0, Type: 'error' })}\n`)
    }
    if (!kubo) {
      req.resume()
      fail(503, 'ipfs-kit proxy: Kubo is not available (starting, restarting or not answering)')
      return
    }
    const url = new URL(req.url ?? '/', 'http://proxy')
    const command = url.pathname.startsWith('/api/v0/') ? url.pathname.slice('/api/v0/'.length) : ''
    const reader = command ? pinChangeReader(command, url.searchParams) : null
    const host =
      kubo.kind === 'tcp'
        ? `${kubo.host.includes(':') ? `[${kubo.host}]` : kubo.host}:${kubo.port}`
        : 'localhost'
    const upstream = httpRequest({
      ...(kubo.kind === 'tcp' ? { host: kubo.host, port: kubo.port } : { socketPath: kubo.socketPath }),
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req.rawHeaders, host) as unknown as Record<string, string>,
    })
    // The caller went away: so does the call to Kubo.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    req.on('error', () => upstream.destroy())
    upstream.on('error', (err) => fail(502, `ipfs-kit proxy: cannot reach Kubo: ${err.message}`))
    upstream.on('response', (kres) => this.#answer(kres, res, reader))
    req.pipe(upstream)
  }

  #answer(kres: IncomingMessage, res: ServerResponse, reader: ReturnType<typeof pinChangeReader>): void {
    res.writeHead(kres.statusCode ?? 502, kres.statusMessage, forwardedHeaders(kres.rawHeaders, null))
    res.flushHeaders()
    let pending = ''
    const feed = (chunk: Buffer) => {
      if (!reader) return
      pending += chunk.toString('utf8')
      let nl = pending.indexOf('\n')
      while (nl !== -1) {
        const line = pending.slice(0, nl).trim()
        if (line && line.length <= MAX_WATCHED_LINE) reader.line(line)
        pending = pending.slice(nl + 1)
        nl = pending.indexOf('\n')
      }
      // A line this long is no line we read: drop it, keep reading after it.
      if (pending.length > MAX_WATCHED_LINE) pending = ''
    }
    kres.on('data', (chunk: Buffer) => {
      feed(chunk)
      if (!res.write(chunk)) {
        kres.pause()
        res.once('drain', () => kres.resume())
      }
    })
    kres.on('error', () => res.destroy())
    kres.on('end', () => {
      const finish = () => {
        const trailers = kres.rawTrailers
        if (trailers.length > 0) {
          const flat = forwardedHeaders(trailers, null)
          const pairs: Array<[string, string]> = []
          for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] as string, flat[i + 1] as string])
          res.addTrailers(pairs)
        }
        res.end()
      }
      if (!reader) return finish()
      if (pending.trim()) reader.line(pending.trim())
      const cids = reader.cids()
      const streamError = kres.trailers['x-stream-error']
      if (kres.statusCode !== 200 || streamError || cids.length === 0) return finish()
      // Recorded before the answer ends: when `ipfs` returns, `ipfs-kit pin list` shows it.
      let timer: NodeJS.Timeout | undefined
      Promise.race([
        this.#o.record(cids, reader.note),
        new Promise<void>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not recorded within ${RECORD_TIMEOUT_MS} ms`)),
            RECORD_TIMEOUT_MS,
          )
        }),
      ])
        .then(
          () => {
            this.#recorded++
          },
          (err: Error) => {
            this.#lastRecordError = err.message
            this.#o.log.warn('could not record a pin change seen by the proxy; the next cycle will see it', {
              cids: cids.slice(0, 10),
              error: err.message,
            })
          },
        )
        .finally(() => {
          clearTimeout(timer)
          finish()
        })
    })
  }
}
