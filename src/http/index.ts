// The manager's HTTP surface, wired from what the manager holds: the listener (server.ts), its
// token and logins (auth.ts), /metrics, the Pinning Service API and the dashboard. The manager
// loads this module only when it starts (the CLI's query paths never do) and talks to it through
// the small interface below.
import type { IpfsKitConfig } from '../config/config.js'
import type { ContentCollector } from '../indexer/content.js'
import type { PinsNow } from '../indexer/pin-history.js'
import type { Logger } from '../manager/log.js'
import { createHttpAuth, type HttpAuth } from './auth.js'
import { type DashboardSources, dashboardRoutes } from './dashboard/routes.js'
import { parseListen } from './listen.js'
import { createMetrics, type MetricsSources } from './metrics.js'
import { PinRequests, type PinRequestsOptions } from './pinning/requests.js'
import { pinningRoutes } from './pinning/routes.js'
import { PinsView } from './pins-view.js'
import { HttpServer, type HttpStatus } from './server.js'
import { ensureHttpToken } from './token.js'

export interface HttpSurfaceOptions {
  config: IpfsKitConfig
  runDir: string
  writer: string
  log: Logger
  metrics: MetricsSources
  pinsNow: () => PinsNow | null
  content: ContentCollector
  kubo: PinRequestsOptions['kubo']
  recordChange: PinRequestsOptions['recordChange']
  dashboard: Omit<DashboardSources, 'view' | 'content' | 'auth'>
}

export interface HttpSurface {
  status(): HttpStatus & { pin_requests: number | null; pin_requests_problem: string | null }
  /** A one-time URL that logs a browser in to the dashboard; null while not listening. */
  loginUrl(): string | null
  observeCycle: ReturnType<typeof createMetrics>['observeCycle']
  /** Starts serving (peerId: the node's, to read back its pin requests). */
  start(peerId: string): Promise<void>
  stop(): Promise<void>
}

/** How often the node's addresses (the delegates of every pin status) are asked again. */
const ADDRESSES_EVERY_MS = 60_000

/** Builds the surface; null when `http.listen` is 'off'. A listen address that is not allowed throws ConfigError. */
export async function createHttpSurface(o: HttpSurfaceOptions): Promise<HttpSurface | null> {
  const address = parseListen(String(o.config.settings['http.listen'].value), {
    allowRemote: o.config.settings['http.allow_remote'].value === true,
  })
  if (!address) return null
  // The token (and so its file) is made when the listener starts, once Kubo is up: a start that
  // fails before that leaves nothing behind.
  let auth: HttpAuth | null = null
  const metrics = createMetrics(o.metrics)
  const view = new PinsView(o.pinsNow)
  const pinnedOnNode = (spellings: readonly string[]) => (view.snapshot()?.find(spellings).length ?? 0) > 0
  const requests = new PinRequests({
    kitPath: o.config.path,
    writer: o.writer,
    log: o.log.child('pinning'),
    concurrency: Math.max(1, Math.floor(Number(o.config.settings['pinning.concurrency'].value))),
    kubo: o.kubo,
    recordChange: o.recordChange,
    pinnedOnNode,
  })
  let addresses: string[] = []
  let addressesAt = 0
  const delegates = () => {
    const kubo = o.kubo()
    if (kubo && Date.now() - addressesAt > ADDRESSES_EVERY_MS) {
      addressesAt = Date.now()
      kubo.rpc
        .id({ timeoutMs: 5_000 })
        .then((id) => {
          // Addresses a client elsewhere could dial first; loopback ones only when there is nothing else.
          const all = [...new Set(id.addresses)]
          const outside = all.filter((a) => !/^\/ip[46]\/(127\.|::1\/)/.test(a))
          addresses = (outside.length > 0 ? outside : all).slice(0, 20)
        })
        .catch((err: Error) => o.log.warn('could not ask Kubo for its addresses', { error: err.message }))
    }
    return addresses.length > 0 ? addresses : kubo ? [`/p2p/${kubo.peerId}`] : []
  }
  const dagSize = (cid: string) => o.content.known()?.rows.get(cid)?.dag_size_bytes ?? null
  let server: HttpServer | null = null
  return {
    status: () => ({
      ...(server?.status() ?? { state: 'stopped', url: null, pinning_endpoint: null, error: null }),
      pin_requests: requests.ready ? requests.newestFirst().length : null,
      pin_requests_problem: requests.loadProblem,
    }),
    loginUrl: () => {
      const url = server?.status().url
      return url && auth ? `${url}/login?code=${auth.loginCode()}` : null
    },
    observeCycle: (result) => {
      metrics.observeCycle(result)
      // The new listing's order for the pin routes, in turns, before a request needs it.
      view.prepare().catch((err: unknown) => o.log.warn('ordering the listing failed', { error: err }))
    },
    async start(peerId) {
      auth = createHttpAuth(await ensureHttpToken(o.runDir))
      server = new HttpServer({
        address,
        auth,
        metrics,
        log: o.log,
        routes: [
          pinningRoutes({ view, requests, delegates, dagSize }),
          dashboardRoutes({ ...o.dashboard, view, content: o.content, auth }),
        ],
      })
      await requests.start(peerId)
      delegates()
      await server.start()
      void o.dashboard
        .warm?.()
        .catch((err: Error) => o.log.warn('could not load the dashboard modules', { error: err.message }))
    },
    async stop() {
      await server?.stop()
      await requests.stop()
    },
  }
}
