// /metrics: what the manager knows, in Prometheus' text format (prom-client). Every figure is
// read at scrape time from what the manager already holds in memory (the last cycle's state rows,
// the index loop's and the supervisor's status): a scrape never calls Kubo and never reads a file.
// A figure the node did not report is left out of the scrape, never written as 0.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ContentProgress } from '../indexer/content.js'
import type { CycleResult, IndexStatus } from '../indexer/loop.js'
import type { KuboStatus } from '../manager/supervisor.js'
import type { StateRow } from '../store/state.js'

export interface MetricsSources {
  index: () => IndexStatus
  kubo: () => KuboStatus
  content: () => ContentProgress | null
  /** The last row of each state kind the manager wrote (network: its summary row). */
  state: () => Partial<Record<'system' | 'network' | 'storage' | 'files', StateRow>>
}

export interface Metrics {
  registry: Registry
  /** Called by the index loop once per cycle. */
  observeCycle(result: CycleResult): void
  /** Called by the HTTP server once per request, with its route pattern (never the raw path). */
  observeRequest(route: string, method: string, status: number, seconds: number): void
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry()

  /** A gauge whose value is read at scrape time; a null value leaves the series out. */
  const gauge = (name: string, help: string, read: () => number | null) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        const v = read()
        if (v !== null) this.set(v)
      },
    })
  /** A counter kept by someone else (Kubo's byte totals, the supervisor's restarts), copied at scrape time. */
  const mirroredCounter = (name: string, help: string, read: () => number | null) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        const v = read()
        if (v !== null && v >= 0) this.inc(v)
      },
    })

  const state = (kind: 'system' | 'network' | 'storage' | 'files', column: string) => () =>
    num(sources.state()[kind]?.[column])

  new Gauge({
    name: 'ipfs_kit_pins',
    help: 'Pins on the node by type, as the last pin listing counted them',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset()
      const storage = sources.state().storage
      for (const type of ['recursive', 'direct'] as const) {
        const v = num(storage?.[`pins_${type}`])
        if (v !== null) this.set({ type }, v)
      }
    },
  })
  gauge(
    'ipfs_kit_repo_size_bytes',
    'Bytes the Kubo repository uses (repo/stat RepoSize)',
    state('storage', 'repo_size_bytes'),
  )
  gauge(
    'ipfs_kit_repo_storage_max_bytes',
    "The repository's limit (Kubo's Datastore.StorageMax)",
    state('storage', 'storage_max_bytes'),
  )
  gauge(
    'ipfs_kit_repo_objects',
    'Blocks in the repository, at the last full repo/stat',
    state('storage', 'num_objects'),
  )
  gauge('ipfs_kit_peers', 'Connected peers at the last network cycle', state('network', 'peer_count'))
  gauge('ipfs_kit_dht_wan_peers', "Peers in the WAN DHT's routing table", state('network', 'dht_wan_peers'))
  mirroredCounter(
    'ipfs_kit_kubo_received_bytes_total',
    'Bytes Kubo received from peers (stats/bw TotalIn)',
    state('system', 'bw_total_in_bytes'),
  )
  mirroredCounter(
    'ipfs_kit_kubo_sent_bytes_total',
    'Bytes Kubo sent to peers (stats/bw TotalOut)',
    state('system', 'bw_total_out_bytes'),
  )
  gauge(
    'ipfs_kit_kubo_receive_rate_bytes_per_second',
    "Kubo's receive rate (stats/bw RateIn)",
    state('system', 'bw_rate_in_bps'),
  )
  gauge(
    'ipfs_kit_kubo_send_rate_bytes_per_second',
    "Kubo's send rate (stats/bw RateOut)",
    state('system', 'bw_rate_out_bps'),
  )
  gauge('ipfs_kit_kubo_rss_bytes', 'Resident memory of the Kubo process', state('system', 'kubo_rss_bytes'))
  gauge('ipfs_kit_kubo_up', '1 when the last health check of Kubo passed, else 0', () =>
    sources.kubo().healthy ? 1 : 0,
  )
  mirroredCounter(
    'ipfs_kit_kubo_restarts_total',
    'Times the manager restarted Kubo',
    () => sources.kubo().restarts,
  )

  const cycleDuration = new Histogram({
    name: 'ipfs_kit_index_cycle_duration_seconds',
    help: 'Duration of index cycles (all collectors, or the ones retried after a failure)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  })
  mirroredCounter(
    'ipfs_kit_index_cycles_total',
    'Index cycles run since the manager started',
    () => sources.index().cycles,
  )
  gauge(
    'ipfs_kit_index_last_updated_timestamp_seconds',
    'When every collector last succeeded in one cycle',
    () => {
      const t = sources.index().last_updated
      return t ? Date.parse(t) / 1000 : null
    },
  )
  gauge('ipfs_kit_index_paused', '1 while background indexing is paused', () =>
    sources.index().paused ? 1 : 0,
  )
  new Gauge({
    name: 'ipfs_kit_collector_last_success_timestamp_seconds',
    help: 'When each collector last succeeded',
    labelNames: ['collector'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [collector, s] of Object.entries(sources.index().collectors)) {
        if (s.last_success) this.set({ collector }, Date.parse(s.last_success) / 1000)
      }
    },
  })
  new Counter({
    name: 'ipfs_kit_collector_errors_total',
    help: 'Failed runs of each collector since the manager started',
    labelNames: ['collector'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [collector, s] of Object.entries(sources.index().collectors))
        this.inc({ collector }, s.failures_total)
    },
  })
  gauge('ipfs_kit_content_examined', 'Pins whose size, kind and type the content index knows', () =>
    num(sources.content()?.examined),
  )
  gauge('ipfs_kit_content_pins', 'Pins the content index has to examine in all', () =>
    num(sources.content()?.total),
  )
  gauge('ipfs_kit_content_incomplete', 'Examined pins whose DAG is not all local', () =>
    num(sources.content()?.incomplete),
  )

  // The manager process itself (prom-client's default set is left out: promtool's lint refuses
  // some of its gauge names, which end in _total).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  gauge(
    'ipfs_kit_manager_resident_memory_bytes',
    'Resident memory of the manager process',
    () => process.memoryUsage().rss,
  )
  gauge(
    'ipfs_kit_manager_heap_used_bytes',
    'V8 heap in use in the manager process',
    () => process.memoryUsage().heapUsed,
  )
  mirroredCounter(
    'ipfs_kit_manager_cpu_seconds_total',
    'CPU time of the manager process (user + system)',
    () => {
      const u = process.cpuUsage()
      return (u.user + u.system) / 1e6
    },
  )
  gauge(
    'ipfs_kit_manager_event_loop_delay_max_seconds',
    'Longest event-loop delay of the manager since the last scrape',
    () => {
      const max = loopDelay.max / 1e9
      loopDelay.reset()
      return Number.isFinite(max) ? max : null
    },
  )

  const requests = new Counter({
    name: 'ipfs_kit_http_requests_total',
    help: "Requests to the manager's HTTP listener, by route, method and status code",
    labelNames: ['route', 'method', 'code'],
    registers: [registry],
  })
  const requestDuration = new Histogram({
    name: 'ipfs_kit_http_request_duration_seconds',
    help: "Time to answer a request to the manager's HTTP listener, by route",
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })

  return {
    registry,
    observeCycle(result) {
      cycleDuration.observe(result.duration_ms / 1000)
    },
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, code: String(status) })
      requestDuration.observe({ route }, seconds)
    },
  }
}
