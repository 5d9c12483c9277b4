// The manager's one HTTP listener (Hono on node:http): /metrics, the Pinning Service API under
// /pinning, and the dashboard with its data under /api. Every request is authorised (auth.ts),
// request bodies are capped, and no route reads a file path from the request. A component with a
// life cycle: start binds (or fails with the reason, which `daemon status` shows), stop closes
// within a bounded time even with clients connected.
import { createServer, type Server } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie } from 'hono/cookie'
import type { Logger } from '../manager/log.js'
import { type HttpAuth, SESSION_COOKIE } from './auth.js'
import { baseUrl, closeWithin, type ListenAddress, listenOn } from './listen.js'
import type { Metrics } from './metrics.js'

/** The largest request body any route takes (a pin request is well under 1 KiB; meta is capped). */
export const MAX_BODY_BYTES = 64 * 1024
/** Where the Pinning Service API lives under the base URL (Kubo's client appends /pins). */
export const PINNING_PREFIX = '/pinning'
/** A stop waits this long for requests in flight, then cuts the connections. */
const STOP_GRACE_MS = 2_000

export type HttpState = 'stopped' | 'starting' | 'listening' | 'failed' | 'stopping'

export interface HttpStatus {
  state: HttpState
  /** Base URL, no trailing slash (null until listening). */
  url: string | null
  /** What `ipfs pin remote service add` takes. */
  pinning_endpoint: string | null
  error: string | null
}

/** A group of routes; the server mounts them and guards them all the same way. */
export interface HttpRoutes {
  mount(app: Hono): void
}

export interface HttpServerOptions {
  address: ListenAddress
  auth: HttpAuth
  metrics: Metrics
  routes: HttpRoutes[]
  log: Logger
}

/** Routes a logged-in dashboard browser may use with its session cookie instead of the token. */
const isDashboardPath = (path: string) =>
  path === '/' || path.startsWith('/assets/') || path.startsWith('/api/')

/** The spec's Failure body (pinning) or a plain JSON error elsewhere: one shape, one place. */
export function failure(
  c: Context,
  status: 400 | 401 | 404 | 409 | 413 | 500 | 503,
  reason: string,
  details: string,
) {
  return c.json({ error: { reason, details } }, status)
}

export function buildApp(o: Pick<HttpServerOptions, 'auth' | 'metrics' | 'routes' | 'log'>): Hono {
  const app = new Hono()
  app.use('*', async (c, next) => {
    const t0 = performance.now()
    try {
      await next()
    } finally {
      const ms = performance.now() - t0
      // The time the answer took here (a client's clock adds the network), for benchmarks and devtools.
      try {
        c.res.headers.set('Server-Timing', `app;dur=${ms.toFixed(2)}`)
      } catch {
        // a response with immutable headers: no timing on it
      }
      // The route's pattern, never the raw path: a metric label per CID would grow without end.
      const route =
        c.req.routePath && c.req.routePath !== '*' && c.req.routePath !== '/*' ? c.req.routePath : 'other'
      o.metrics.observeRequest(route, c.req.method, c.res.status, ms / 1000)
    }
  })
  app.use('*', async (c, next) => {
    const path = c.req.path
    if (path === '/login') return next()
    if (o.auth.bearerOk(c.req.header('authorization'))) return next()
    if (isDashboardPath(path) && o.auth.sessionOk(getCookie(c, SESSION_COOKIE))) return next()
    c.header('WWW-Authenticate', 'Bearer realm="ipfs-kit"')
    if (path === '/') {
      return c.html(
        '<!doctype html><meta charset="utf-8"><title>ipfs-kit: log in</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>ipfs-kit</h1><p>This dashboard needs a login link. Run <code>ipfs-kit dashboard</code> on this machine: it opens the dashboard, or prints a link that logs this browser in (<code>--print-url</code>).</p></body>',
        401,
      )
    }
    return failure(
      c,
      401,
      'UNAUTHORIZED',
      'a bearer token is required: Authorization: Bearer <the token in $IPFS_KIT_PATH/run/http.token>',
    )
  })
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        failure(c, 413, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`),
    }),
  )
  app.get('/metrics', async (c) => {
    const text = await o.metrics.registry.metrics()
    return c.body(text, 200, { 'Content-Type': o.metrics.registry.contentType })
  })
  for (const r of o.routes) r.mount(app)
  app.notFound((c) => failure(c, 404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))
  app.onError((err, c) => {
    o.log.error('HTTP request failed', { method: c.req.method, path: c.req.path, error: err.message })
    return failure(c, 500, 'INTERNAL_SERVER_ERROR', err.message)
  })
  return app
}

export class HttpServer {
  readonly #o: HttpServerOptions
  #state: HttpState = 'stopped'
  #server: Server | null = null
  #url: string | null = null
  #error: string | null = null

  constructor(options: HttpServerOptions) {
    this.#o = options
  }

  status(): HttpStatus {
    return {
      state: this.#state,
      url: this.#url,
      pinning_endpoint: this.#url ? `${this.#url}${PINNING_PREFIX}` : null,
      error: this.#error,
    }
  }

  /** Binds and serves; HttpListenError (kept in status) when the address cannot be had. */
  async start(): Promise<void> {
    if (this.#state !== 'stopped' && this.#state !== 'failed') return
    this.#state = 'starting'
    const app = buildApp(this.#o)
    const server = createServer(getRequestListener(app.fetch))
    // A slow or idle client may not hold a socket for ever.
    server.requestTimeout = 30_000
    server.headersTimeout = 10_000
    server.keepAliveTimeout = 5_000
    let port: number
    try {
      port = await listenOn(server, this.#o.address, 'http.listen')
    } catch (err) {
      this.#state = 'failed'
      this.#error = (err as Error).message
      throw err
    }
    server.on('error', (err) => this.#o.log.error('HTTP server error', { error: err.message }))
    this.#server = server
    this.#url = baseUrl(this.#o.address.host, port)
    this.#error = null
    this.#state = 'listening'
    this.#o.log.info('serving HTTP', { url: this.#url })
  }

  /** Stops accepting, lets requests in flight end for up to 2 s, then cuts what is left. */
  async stop(): Promise<void> {
    const server = this.#server
    if (!server || this.#state !== 'listening') return
    this.#state = 'stopping'
    await closeWithin(server, STOP_GRACE_MS)
    this.#server = null
    this.#url = null
    this.#state = 'stopped'
  }
}
