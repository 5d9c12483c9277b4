// The daemon manager: the one long-running process per IPFS_KIT_PATH. It takes the lock, brings
// Kubo up (or attaches), runs the indexing loop (the only writer of the index), answers the CLI
// on the control socket, and on stop lets a write in progress finish, stops the Kubo it started
// and removes its lock and socket.
import { readdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { ClusterStatus, ClusterSupervisor } from '../cluster/supervisor.js'
import { type ConfigKey, type IpfsKitConfig, loadConfig } from '../config/config.js'
import { type Env, ipfsRepoPath } from '../config/paths.js'
import { HttpListenError, IndexRefreshError, IpfsKitError, KuboNotRunningError } from '../errors.js'
import { LOGIN_CODE_TTL_MS } from '../http/auth.js'
import type { HttpSurface } from '../http/index.js'
import { parseListen } from '../http/listen.js'
import type { ClusterCollector } from '../indexer/cluster-pins.js'
import { type ContentProgress, contentCollector, type PinsetSnapshot } from '../indexer/content.js'
import { DayLogWriter } from '../indexer/day-log.js'
import { IndexLoop } from '../indexer/loop.js'
import { peersCollector } from '../indexer/peers.js'
import { PinDeltaLog } from '../indexer/pin-delta-log.js'
import { PinHistory } from '../indexer/pin-history.js'
import { pinCollector } from '../indexer/pins.js'
import {
  filesCollector,
  networkCollector,
  pinCountsByCycle,
  type StateSources,
  storageCollector,
  systemCollector,
} from '../indexer/state.js'
import { resolveKuboBinary } from '../kubo/binary.js'
import { datastoreWatch } from '../kubo/datastore-watch.js'
import { findKuboEndpoint } from '../kubo/endpoint.js'
import type { KuboRpcProxy, ProxyStatus } from '../proxy/proxy.js'
import { TEMP_PREFIX } from '../store/atomic.js'
import {
  DAY_LOG_KINDS,
  type DayLogKind,
  dayLogDir,
  INDEX_FILES,
  type IndexFileKind,
  indexFilePath,
} from '../store/layout.js'
import type { StateRow } from '../store/state.js'
import { writerName } from '../version.js'
import { cliMain } from './client.js'
import { type ControlRequest, RawReply, serveControl } from './control.js'
import { ensurePrivateDirs, managerFiles } from './files.js'
import { acquireLock } from './lock.js'
import { createLogger, type LogLevel } from './log.js'
import { QueryWorker } from './query-worker.js'
import { KuboSupervisor } from './supervisor.js'

export interface ManagerOptions {
  env?: Env
  /** Values given as flags for this run, keyed by config key. */
  flags?: Partial<Record<ConfigKey, { value: unknown; flag: string }>>
  offline?: boolean
  /** Also write readable log lines to stderr. */
  logToStderr?: boolean
}

export interface ManagerStatus {
  manager: {
    pid: number
    instance_id: string
    started_at: string
    uptime_s: number
    ready: boolean
    stopping: boolean
    ipfs_kit_path: string
    ipfs_path: string
    kubo_binary: string
    offline: boolean
    log_file: string
    /**
     * How long the manager's event loop was held up (perf_hooks' timer-delay histogram since the
     * manager's control socket began to listen, in ms): what a control-socket request, a proxied
     * call or an HTTP request may have waited behind the manager's own work.
     */
    event_loop_delay_max_ms: number
    event_loop_delay_p99_ms: number
  }
  kubo: ReturnType<KuboSupervisor['status']>
  index: ReturnType<IndexLoop['status']>
  /** How far the content collector is: examined of all pins, rate, time left. */
  content: ContentProgress | null
  /** The HTTP listener (metrics, Pinning Service API, dashboard); null when http.listen is 'off'. */
  http: ReturnType<HttpSurface['status']> | null
  /** The Kubo RPC proxy; null when proxy.listen is 'off'. */
  proxy: ProxyStatus | null
  /** Warm queries (src/cli/warm.ts): answered for CLIs by the query worker, or declined. */
  queries: ReturnType<QueryWorker['status']>
  /** The IPFS Cluster peer beside this node and its index; null unless cluster.enabled. */
  cluster: (ClusterStatus & { index: ReturnType<ClusterCollector['summary']> }) | null
}

/** Removes the temporary files a killed manager may have left mid-write (we hold the lock: no writer runs). */
async function removeStaleTempFiles(kitPath: string, runDir: string): Promise<string[]> {
  const removed: string[] = []
  const dirs = new Set([
    ...Object.keys(INDEX_FILES).map((k) => dirname(indexFilePath(kitPath, k as IndexFileKind))),
    runDir,
  ])
  // Each day folder of each day log (the parts are written in their day's folder).
  for (const kind of DAY_LOG_KINDS) {
    try {
      for (const day of await readdir(dayLogDir(kitPath, kind))) dirs.add(join(dayLogDir(kitPath, kind), day))
    } catch {
      // none yet
    }
  }
  for (const dir of dirs) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      continue
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue
      await rm(join(dir, name), { force: true })
      removed.push(join(dir, name))
    }
  }
  return removed
}

export async function runManager(options: ManagerOptions = {}): Promise<number> {
  const env = options.env ?? process.env
  const config: IpfsKitConfig = await loadConfig({ env, ...(options.flags ? { flags: options.flags } : {}) })
  const files = managerFiles(config.path)
  await ensurePrivateDirs(files)
  const rotation = {
    maxBytes: Number(config.settings['log.max_bytes'].value),
    keep: Math.max(1, Math.floor(Number(config.settings['log.keep'].value))),
  }
  const log = createLogger({
    file: files.managerLog,
    stderr: options.logToStderr ?? false,
    component: 'manager',
    level: config.settings['log.level'].value as LogLevel,
    rotation,
  })
  const lock = await acquireLock(files.lock)
  log.info('manager starting', {
    pid: process.pid,
    instance_id: lock.record.instance_id,
    ipfs_kit_path: config.path,
  })
  if (lock.tookOverFrom !== null)
    log.warn('took over the lock of a manager that is gone', { stale_pid: lock.tookOverFrom })

  const ipfsPath = ipfsRepoPath(env)
  const startedAt = Date.now()
  // Enabled once the control socket listens: before that no request can be waiting, and loading
  // the HTTP listener's and the proxy's code holds the loop up ~100 ms once, at start.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  let ready = false
  let stopping = false
  let resolveStopped: (code: number) => void = () => {}
  const stopped = new Promise<number>((r) => {
    resolveStopped = r
  })

  let supervisor: KuboSupervisor | null = null
  let loop: IndexLoop | null = null
  let server: Awaited<ReturnType<typeof serveControl>> | null = null
  let http: HttpSurface | null = null
  let proxy: KuboRpcProxy | null = null
  let cluster: ClusterSupervisor | null = null
  let kuboBinary = ''
  // Warm queries (src/cli/warm.ts): the CLI's query commands, run in a worker process of this
  // one for CLIs that ask over the control socket.
  const queries = new QueryWorker(cliMain(), (err) => log.warn('query worker failed', { error: err }))

  const shutdown = async (why: string, code: number) => {
    if (stopping) return
    stopping = true
    log.info('manager stopping', { reason: why })
    try {
      await proxy?.stop()
      await http?.stop()
      await loop?.close()
      // The Cluster peer pins on Kubo: it stops first.
      await cluster?.stop()
      await supervisor?.stop()
    } catch (err) {
      log.error('error while stopping', { error: err })
    }
    await queries.close()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    await rm(files.socket, { force: true })
    await lock.release()
    log.info('manager stopped')
    resolveStopped(code)
  }

  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals >= 3) {
      log.error('third signal: exiting at once', { signal })
      process.exit(130)
    }
    if (signals === 1) void shutdown(`received ${signal}`, 0)
    else log.warn('stopping already; send the signal once more to exit at once', { signal })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)

  try {
    const removed = await removeStaleTempFiles(config.path, files.runDir)
    if (removed.length > 0)
      log.warn('removed temporary files left by an interrupted write', { files: removed })

    const kubo = await resolveKuboBinary({ env, configured: config.settings['kubo.binary'] })
    kuboBinary = kubo.path
    log.info('using Kubo', { bin: kubo.path, version: kubo.version, reason: kubo.reason })
    supervisor = new KuboSupervisor({
      bin: kubo.path,
      ipfsPath,
      recordPath: files.kuboRecord,
      kuboLog: files.kuboLog,
      log: log.child('kubo'),
      offline: options.offline ?? false,
      initProfiles: String(config.settings['kubo.init_profiles'].value ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
      endpoint: () => findKuboEndpoint(config, ipfsPath),
      rpcTimeoutMs: Number(config.settings['kubo.timeout_ms'].value),
      healthIntervalMs: Number(config.settings['kubo.health_interval_s'].value) * 1000,
      kuboLogRotation: rotation,
    })
    const sup = supervisor
    const intervalS = Number(config.settings['index.interval_s'].value)
    const pinCounts = pinCountsByCycle(() => loop?.status().collectors.pins?.last_error ?? null)
    const pinChanges = { adds: 0, removes: 0 }
    const collectContext = () => {
      const rpc = sup.rpc
      const st = sup.status()
      return rpc && st.peer_id ? { rpc, peerId: st.peer_id, kuboVersion: st.version } : null
    }
    const retentionMs = () => Number(config.settings['history.retention_days'].value) * 86_400_000
    const dayLog = (kind: DayLogKind) =>
      new DayLogWriter({
        kitPath: config.path,
        kind,
        writer: writerName(),
        log: log.child('history'),
        retentionMs,
      })
    const pinHistory = new PinHistory({
      kitPath: config.path,
      events: dayLog('pin_events'),
      log: log.child('pin-history'),
    })
    const deltaLog = new PinDeltaLog({
      kitPath: config.path,
      writer: writerName(),
      log: log.child('delta'),
      history: pinHistory,
    })
    /** The last row of each state kind written (for /metrics: a scrape reads memory, not files). */
    const latestState: Partial<Record<'system' | 'network' | 'storage' | 'files', StateRow>> = {}
    const sources: StateSources = {
      onRow: (kind, row) => {
        if (kind === 'system' || kind === 'network' || kind === 'storage' || kind === 'files')
          latestState[kind] = row
      },
      history: {
        system: dayLog('history_system'),
        network: dayLog('history_network'),
        storage: dayLog('history_storage'),
        files: dayLog('history_files'),
      },
      kitPath: config.path,
      ipfsPath,
      writer: writerName(),
      offline: options.offline ?? false,
      managerStartedAt: startedAt,
      kuboPid: () => sup.status().pid,
      pinCounts: (cycle) => pinCounts.forCycle(cycle),
      pinChanges: () => ({ ...pinChanges }),
    }
    let pinset: PinsetSnapshot | null = null
    const content = contentCollector({
      kitPath: config.path,
      writer: writerName(),
      pinset: () => pinset,
      log: log.child('content'),
      budgetMs: Number(config.settings['content.budget_ms'].value),
      dagTimeoutMs: Number(config.settings['content.dag_timeout_s'].value) * 1000,
      ipfsPath,
      blockFiles: () => config.settings['content.block_files'].value === true,
    })
    const setting = (key: ConfigKey) => Number(config.settings[key].value)
    const pins = pinCollector({
      kitPath: config.path,
      writer: writerName(),
      onCounts: (counts, cycle) => pinCounts.record(counts, cycle),
      onPinset: (p) => {
        pinset = p
      },
      deltaLog,
      history: pinHistory,
      intervalS: () => loop?.status().effective_interval_s ?? intervalS,
      namesEveryMs: () => setting('index.names_every_s') * 1000,
      watch: datastoreWatch(ipfsPath),
      maxStalenessMs: () => setting('index.max_staleness_s') * 1000,
      idleShare: () => Math.min(1, setting('index.idle_share')),
      kuboPid: () => sup.status().pid,
    })
    const clusterIndex = await clusterParts(config, files, log)
    cluster = clusterIndex?.supervisor ?? null
    loop = new IndexLoop({
      // Pins first: the storage collector reports the counts it took, without a second pin/ls.
      // Content last: examining pins never holds up the other files.
      collectors: [
        pins,
        systemCollector(sources),
        networkCollector(sources),
        storageCollector(sources),
        filesCollector(sources),
        peersCollector({
          kitPath: config.path,
          writer: writerName(),
          offline: sources.offline,
          bwPerCycle: () => Math.floor(Number(config.settings['peers.bw_per_cycle'].value)),
          sessions: dayLog('peer_sessions'),
        }),
        content,
        ...(clusterIndex ? [clusterIndex.collector] : []),
      ],
      intervalS,
      log: log.child('index'),
      context: collectContext,
      onCycle: (result) => http?.observeCycle(result),
      // Between cycles, a look at the datastore every few seconds: a change runs a cycle now,
      // no sooner after the last listing than busy_share allows.
      watch: {
        everyMs: setting('index.watch_s') * 1000,
        check: () => pins.changed(),
        minGapMs: () => {
          const ms = pins.lastListingMs() ?? 0
          const share = Math.min(1, setting('index.busy_share'))
          return ms / share - ms
        },
      },
    })
    const idx = loop

    const status = (): ManagerStatus => ({
      manager: {
        pid: process.pid,
        instance_id: lock.record.instance_id,
        started_at: lock.record.started_at,
        uptime_s: Math.round((Date.now() - startedAt) / 1000),
        ready,
        stopping,
        ipfs_kit_path: config.path,
        ipfs_path: ipfsPath,
        kubo_binary: kuboBinary,
        offline: options.offline ?? false,
        log_file: files.managerLog,
        // The histogram counts nanoseconds, the timer's own resolution included.
        event_loop_delay_max_ms: Math.round(loopDelay.max / 1e6),
        event_loop_delay_p99_ms: Math.round(loopDelay.percentile(99) / 1e6),
      },
      kubo: sup.status(),
      index: idx.status(),
      content: content.progress(),
      http: http?.status() ?? null,
      proxy: proxy?.status() ?? null,
      queries: queries.status(),
      cluster: clusterIndex
        ? { ...clusterIndex.supervisor.status(), index: clusterIndex.collector.summary() }
        : null,
    })
    const refreshOrThrow = async () => {
      const result = await idx.refresh()
      const failed = Object.entries(result.outcomes).filter(([, o]) => !o.ok)
      if (failed.length > 0) {
        throw new IndexRefreshError(
          `index refresh failed: ${failed.map(([name, o]) => `${name}: ${o.ok ? '' : o.error}`).join('; ')}`,
        )
      }
      return result
    }
    /**
     * A pin change through ipfs-kit (its CLI or its Pinning Service API): records what Kubo now
     * holds for these CIDs in the delta, so that every reader sees it at once.
     */
    const recordPinChange = async (cids: string[], note?: 'pin.add' | 'pin.rm') => {
      if (note === 'pin.add') pinChanges.adds++
      if (note === 'pin.rm') pinChanges.removes++
      const ctx = collectContext()
      if (!ctx) throw new IndexRefreshError('Kubo is not available to confirm the change')
      const t0 = performance.now()
      const entries = await deltaLog.record(ctx, cids)
      // New pins are examined at once, in the background: their size shows within seconds.
      const added = (entries ?? []).filter((e) => e.op === 'add').map((e) => e.cid)
      if (added.length > 0) {
        content
          .examineNow({ ...ctx, signal: new AbortController().signal }, added)
          .catch((err: unknown) => log.warn('examining new pins failed', { error: err }))
      }
      if (entries) {
        // The datastore changed by exactly this (Kubo confirmed it): no reason for a listing.
        pins.accountFor()
        return { recorded: entries, full_cycle: false, ms: Math.round(performance.now() - t0) }
      }
      // The delta is full: fold everything into pins.parquet now.
      return { recorded: [], full_cycle: true, cycle: await refreshOrThrow() }
    }
    const { createHttpSurface } = await import('../http/index.js')
    http = await createHttpSurface({
      config,
      runDir: files.runDir,
      writer: writerName(),
      log: log.child('http'),
      metrics: {
        index: () => idx.status(),
        kubo: () => sup.status(),
        content: () => content.progress(),
        state: () => latestState,
      },
      pinsNow: () => pinHistory.now(),
      content,
      kubo: collectContext,
      recordChange: async (cids, note) => {
        await recordPinChange(cids, note)
      },
      dashboard: dashboardSources(config.path, ipfsPath, () => http?.status() ?? null),
    })
    const proxyAddress = parseListen(String(config.settings['proxy.listen'].value), {
      key: 'proxy.listen',
      allowRemote: config.settings['proxy.allow_remote'].value === true,
    })
    if (proxyAddress) {
      const { KuboRpcProxy } = await import('../proxy/proxy.js')
      const { parseApiMultiaddr } = await import('../kubo/address.js')
      proxy = new KuboRpcProxy({
        address: proxyAddress,
        kubo: () => {
          const api = sup.status().api_address
          return api && sup.status().healthy ? parseApiMultiaddr(api) : null
        },
        record: async (cids, note) => {
          await recordPinChange(cids, note ?? undefined)
        },
        log: log.child('proxy'),
      })
    }
    const handle = async (req: ControlRequest): Promise<unknown> => {
      switch (req.cmd) {
        case 'status':
          return status()
        case 'index.pause':
          idx.pause()
          return idx.status()
        case 'index.resume':
          idx.resume()
          return idx.status()
        case 'pins.record': {
          const cids = Array.isArray(req.cids) ? req.cids.filter((c) => typeof c === 'string') : []
          return recordPinChange(cids, req.note)
        }
        case 'http.login': {
          const url = http?.loginUrl() ?? null
          if (!url)
            throw new HttpListenError(
              http
                ? `the HTTP listener is not serving: ${http.status().error ?? http.status().state}`
                : "the HTTP listener is off (http.listen is 'off')",
            )
          return { url, expires_in_s: LOGIN_CODE_TTL_MS / 1000 }
        }
        case 'index.refresh': {
          if (req.note === 'pin.add') pinChanges.adds++
          if (req.note === 'pin.rm') pinChanges.removes++
          return refreshOrThrow()
        }
        case 'query': {
          const reply = await queries.run({ argv: req.argv, env: req.env, cwd: req.cwd, build: req.build })
          if (!reply.answered) return reply
          // The output as raw bytes after the reply's line (src/cli/warm.ts reads it so).
          const { out, err, code } = reply
          return new RawReply(
            { answered: true, code, out_bytes: out.byteLength, err_bytes: err.byteLength },
            Buffer.concat([out, err]),
          )
        }
        case 'daemon.stop':
          setImmediate(() => void shutdown('asked by `ipfs-kit daemon stop`', 0))
          return { stopping: true, pid: process.pid }
        default:
          throw new Error(`unknown control command ${JSON.stringify((req as { cmd: unknown }).cmd)}`)
      }
    }
    server = await serveControl(files.socket, handle, (err) =>
      log.error('control socket error', { error: err }),
    )
    loopDelay.enable()

    await supervisor.start()
    if (stopping) return await stopped
    // After Kubo, which it pins on. A Cluster that cannot start fails the start, as Kubo does:
    // the user asked for it (cluster.enabled).
    await cluster?.start()
    if (stopping) return await stopped
    const peerId = sup.status().peer_id
    if (http && peerId) {
      // The pins of the last index answer the HTTP listener until the first cycle is done.
      await pinHistory.prime(peerId)
      await http.start(peerId).catch((err: unknown) => {
        // The index is the core: a port taken costs the HTTP surface (daemon status says why), not the manager.
        log.error('the HTTP listener did not start', { error: (err as Error).message })
      })
    }
    await proxy?.start().catch((err: unknown) => {
      log.error('the Kubo RPC proxy did not start', { error: (err as Error).message })
    })
    loop.start()
    const first = await Promise.race([loop.firstFullCycle(), stopped.then(() => null)])
    if (first) {
      ready = true
      log.info('ready: Kubo answers and the first index is written', {
        peer_id: sup.status().peer_id,
        api: sup.status().api_address,
        cycle_ms: first.duration_ms,
      })
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    log.error('manager could not start', { error: message })
    process.stderr.write(`ipfs-kit: ${message}\n`)
    if (err instanceof IpfsKitError && err.hint) process.stderr.write(`  ${err.hint}\n`)
    await shutdown('start-up failed', 1)
  }
  const code = await stopped
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  return code
}

/** With cluster.enabled: the Cluster peer's supervisor and the collector of its pinset. */
async function clusterParts(
  config: IpfsKitConfig,
  files: ReturnType<typeof managerFiles>,
  log: ReturnType<typeof createLogger>,
): Promise<{ supervisor: ClusterSupervisor; collector: ClusterCollector } | null> {
  if (config.settings['cluster.enabled'].value !== true) return null
  const [
    { clusterRestOf },
    { ClusterSupervisor },
    { clusterCollector },
    { resolveClusterBinary },
    { clusterPath },
  ] = await Promise.all([
    import('../cluster/config.js'),
    import('../cluster/supervisor.js'),
    import('../indexer/cluster-pins.js'),
    import('../cluster/binary.js'),
    import('../config/paths.js'),
  ])
  const rest = clusterRestOf(config)
  const supervisor = new ClusterSupervisor({
    rest,
    clusterPath: clusterPath(),
    binary: async () => (await resolveClusterBinary({ configured: config.settings['cluster.binary'] })).path,
    recordPath: files.clusterRecord,
    clusterLog: files.clusterLog,
    log: log.child('cluster'),
  })
  const collector = clusterCollector({
    kitPath: config.path,
    runDir: files.runDir,
    writer: writerName(),
    cluster: () => {
      const r = supervisor.rest
      if (r) return { rest: r }
      const st = supervisor.status()
      return {
        unavailable: st.gave_up_reason ?? st.last_health_error ?? st.last_start_error ?? 'it does not answer',
      }
    },
    statusTimeoutMs: () => Number(config.settings['cluster.status_timeout_s'].value) * 1000,
    log: log.child('cluster-index'),
  })
  return { supervisor, collector }
}

/** What the dashboard draws from: the same gathering functions and readers as the CLI. */
function dashboardSources(
  kitPath: string,
  ipfsPath: string,
  httpStatus: () => ReturnType<HttpSurface['status']> | null,
): Parameters<typeof import('../http/index.js').createHttpSurface>[0]['dashboard'] {
  const peerId = async () => {
    const { readRepoConfig } = await import('../kubo/repo.js')
    const repo = await readRepoConfig(ipfsPath)
    if (!repo) throw new KuboNotRunningError(`no Kubo repository at ${ipfsPath}`)
    return repo.peerId
  }
  return {
    warm: async () => {
      await Promise.all([
        import('../status/daemon-status.js'),
        import('../status/storage-report.js'),
        import('../store/day-log.js'),
        import('../store/state.js'),
      ])
    },
    status: async () => {
      const { daemonStatus } = await import('../status/daemon-status.js')
      return { ...(await daemonStatus()), http: httpStatus() }
    },
    storage: async () => {
      const { storageReport } = await import('../status/storage-report.js')
      return storageReport(kitPath, ipfsPath)
    },
    history: async (kind, since) => {
      const { readDayLog } = await import('../store/day-log.js')
      return (await readDayLog(kitPath, `history_${kind}`, await peerId(), { since })).rows
    },
    peers: async () => {
      const { readStateFile } = await import('../store/state.js')
      const { IndexMissingError } = await import('../errors.js')
      try {
        const snapshot = await readStateFile(indexFilePath(kitPath, 'peers'), 'peers', await peerId())
        return {
          generated_at: snapshot.header.generatedAt.toISOString(),
          peers: snapshot.rows,
          reasons: snapshot.nullReasons,
        }
      } catch (err) {
        if (err instanceof IndexMissingError) return { generated_at: null, peers: [], reasons: {} }
        throw err
      }
    },
  }
}
