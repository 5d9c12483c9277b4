// What `daemon status` reports, gathered across the running manager (its control socket and
// lock), the state files it writes, the pin index with its pending changes, and Kubo's RPC API
// when the files cannot answer. A library function: the CLI prints it, tests call it.
import { loadConfig } from '../config/config.js'
import { ipfsKitPath, ipfsRepoPath } from '../config/paths.js'
import { IndexRejectedError, ManagerCommandError, ManagerNotRunningError } from '../errors.js'
import { findKuboEndpoint } from '../kubo/endpoint.js'
import { readRepoConfig } from '../kubo/repo.js'
import { managerStatus } from '../manager/client.js'
import { managerFiles } from '../manager/files.js'
import { type LockRecord, runningManager } from '../manager/lock.js'
import type { ManagerStatus } from '../manager/manager.js'
import { indexFilePath } from '../store/layout.js'
import { countsWithPending, pendingOf, readPinDelta } from '../store/pin-delta.js'
import { openIndexFile } from '../store/reader.js'

export interface DaemonStatusReport {
  /**
   * Where Kubo's version, the network and storage figures come from: the state files the
   * manager writes ('index'), Kubo's RPC API when they are missing or refused ('api'), or
   * nowhere (null).
   */
  source: 'index' | 'api' | null
  /** When the state files were written (source index). */
  state_as_of: string | null
  manager: {
    running: boolean
    pid: number | null
    uptime_s: number | null
    ready: boolean | null
    instance_id: string | null
    /** The longest the manager's event loop was held up since it started, and the 99th percentile (ms). */
    event_loop_delay_max_ms: number | null
    event_loop_delay_p99_ms: number | null
  }
  kubo: {
    peer_id: string | null
    version: string | null
    api_address: string | null
    mode: 'started' | 'attached' | null
    pid: number | null
    healthy: boolean
    last_health_check: string | null
    last_health_error: string | null
    restarts: number | null
    last_exit: { at: string; reason: string } | null
    gave_up: boolean
    gave_up_reason: string | null
  }
  network: { peers: number | null }
  storage: {
    repo_size_bytes: number | null
    storage_max_bytes: number | null
    pin_count: number | null
    pins_by_type: { recursive: number; direct: number } | null
    /** When the pin counts were taken (the index they come from). */
    pins_as_of: string | null
  }
  index: {
    running: boolean
    paused: boolean | null
    interval_s: number
    effective_interval_s: number | null
    stretched_reason: string | null
    last_updated: string | null
    cycles: number | null
    errors: Record<string, string>
  }
  /** The manager's HTTP listener (DESIGN.md): base URL, the Pinning Service API endpoint. */
  http: {
    state: string | null
    url: string | null
    pinning_endpoint: string | null
    error: string | null
    pin_requests: number | null
  }
  /** The Kubo RPC proxy (DESIGN.md): `api` is the multiaddr for `ipfs --api`. */
  proxy: {
    state: string | null
    api: string | null
    error: string | null
    requests: number | null
    pin_changes_recorded: number | null
  }
  /**
   * Queries the manager answered for CLIs (warm, src/cli/warm.ts) and declined (the CLI answered
   * itself) since it started; null when no manager answers.
   */
  /** worker_pid: the process that answers them (started at the first query), or null. */
  queries: {
    answered: number
    declined: number
    last_declined: string | null
    worker_pid: number | null
  } | null
  /** The IPFS Cluster peer beside this node (cluster.enabled); null when not enabled or no manager answers. */
  cluster: {
    mode: 'started' | 'attached' | null
    pid: number | null
    api: string
    peer_id: string | null
    peername: string | null
    version: string | null
    ipfs_peer_id: string | null
    healthy: boolean
    last_health_error: string | null
    restarts: number
    last_exit: { at: string; reason: string } | null
    gave_up_reason: string | null
    pins: number | null
    status_at: string | null
    status_error: string | null
  } | null
  problems: string[]
}

export async function daemonStatus(): Promise<DaemonStatusReport> {
  const config = await loadConfig()
  const kitPath = ipfsKitPath()
  const repoPath = ipfsRepoPath()
  const files = managerFiles(kitPath)
  const problems: string[] = []
  let st: ManagerStatus | null = null
  let busyManager: LockRecord | null = null
  try {
    st = await managerStatus(files)
  } catch (err) {
    if (err instanceof ManagerCommandError) {
      // It runs (its lock says so) but did not answer in time: a large index write holds it.
      busyManager = await runningManager(files.lock)
      if (!busyManager) throw err
      problems.push(
        `the ipfs-kit manager (pid ${busyManager.pid}) did not answer in time; it may be busy writing the index`,
      )
    } else if (err instanceof ManagerNotRunningError) {
      problems.push('the ipfs-kit manager is not running: start it with `ipfs-kit daemon start`')
    } else throw err
  }

  const report: DaemonStatusReport = {
    source: null,
    state_as_of: null,
    manager: {
      running: st !== null || busyManager !== null,
      pid: st?.manager.pid ?? busyManager?.pid ?? null,
      uptime_s: st?.manager.uptime_s ?? null,
      ready: st?.manager.ready ?? null,
      instance_id: st?.manager.instance_id ?? busyManager?.instance_id ?? null,
      event_loop_delay_max_ms: st?.manager.event_loop_delay_max_ms ?? null,
      event_loop_delay_p99_ms: st?.manager.event_loop_delay_p99_ms ?? null,
    },
    kubo: {
      peer_id: st?.kubo.peer_id ?? null,
      version: st?.kubo.version ?? null,
      api_address: st?.kubo.api_address ?? null,
      mode: st?.kubo.mode ?? null,
      pid: st?.kubo.pid ?? null,
      healthy: st?.kubo.healthy ?? false,
      last_health_check: st?.kubo.last_health_check ?? null,
      last_health_error: st?.kubo.last_health_error ?? null,
      restarts: st?.kubo.restarts ?? null,
      last_exit: st?.kubo.last_exit ?? null,
      gave_up: st?.kubo.gave_up ?? false,
      gave_up_reason: st?.kubo.gave_up_reason ?? null,
    },
    network: { peers: null },
    storage: {
      repo_size_bytes: null,
      storage_max_bytes: null,
      pin_count: null,
      pins_by_type: null,
      pins_as_of: null,
    },
    index: {
      running: st?.index.running ?? false,
      paused: st?.index.paused ?? null,
      interval_s: st?.index.interval_s ?? Number(config.settings['index.interval_s'].value),
      effective_interval_s: st?.index.effective_interval_s ?? null,
      stretched_reason: st?.index.stretched_reason ?? null,
      last_updated: st?.index.last_updated ?? null,
      cycles: st?.index.cycles ?? null,
      errors: Object.fromEntries(
        Object.entries(st?.index.collectors ?? {})
          .filter(([, c]) => c.last_error !== null)
          .map(([name, c]) => [name, c.last_error as string]),
      ),
    },
    http: {
      state: st?.http?.state ?? (st ? 'off' : null),
      url: st?.http?.url ?? null,
      pinning_endpoint: st?.http?.pinning_endpoint ?? null,
      error: st?.http?.error ?? null,
      pin_requests: st?.http?.pin_requests ?? null,
    },
    proxy: {
      state: st?.proxy?.state ?? (st ? 'off' : null),
      api: st?.proxy?.api ?? null,
      error: st?.proxy?.error ?? null,
      requests: st?.proxy?.requests ?? null,
      pin_changes_recorded: st?.proxy?.pin_changes_recorded ?? null,
    },
    queries: st?.queries
      ? {
          answered: st.queries.answered,
          declined: st.queries.declined,
          last_declined: st.queries.last_declined,
          worker_pid: st.queries.worker_pid ?? null,
        }
      : null,
    cluster: st?.cluster
      ? {
          mode: st.cluster.mode,
          pid: st.cluster.pid,
          api: st.cluster.api_address,
          peer_id: st.cluster.peer_id,
          peername: st.cluster.peername,
          version: st.cluster.version,
          ipfs_peer_id: st.cluster.ipfs_peer_id,
          healthy: st.cluster.healthy,
          last_health_error: st.cluster.last_health_error,
          restarts: st.cluster.restarts,
          last_exit: st.cluster.last_exit,
          gave_up_reason: st.cluster.gave_up_reason,
          pins: st.cluster.index.pins,
          status_at: st.cluster.index.status_at,
          status_error: st.cluster.index.status_error,
        }
      : null,
    problems,
  }
  if (st?.cluster?.gave_up)
    problems.push(`the manager gave up restarting the Cluster peer: ${st.cluster.gave_up_reason}`)
  else if (st?.cluster && !st.cluster.healthy)
    problems.push(`the Cluster peer is not healthy: ${st.cluster.last_health_error ?? 'not answering'}`)
  if (
    st?.cluster &&
    st.kubo.peer_id &&
    st.cluster.ipfs_peer_id &&
    st.cluster.ipfs_peer_id !== st.kubo.peer_id
  )
    problems.push(
      `the Cluster peer pins on Kubo ${st.cluster.ipfs_peer_id}, not on this node (${st.kubo.peer_id}): check ipfshttp.node_multiaddress in its service.json`,
    )
  if (st?.proxy?.error) problems.push(`the Kubo RPC proxy is not serving: ${st.proxy.error}`)
  if (st?.http?.error) problems.push(`the HTTP listener is not serving: ${st.http.error}`)
  if (st?.kubo.gave_up) problems.push(`the manager gave up restarting Kubo: ${st.kubo.gave_up_reason}`)
  else if (st && !st.kubo.healthy)
    problems.push(`Kubo is not healthy: ${st.kubo.last_health_error ?? 'not answering'}`)

  const repo = await readRepoConfig(repoPath).catch(() => null)
  if (repo && (await fillFromStateFiles(report, kitPath, repo.peerId))) {
    report.kubo.peer_id = repo.peerId
    // The state file's counts are those of the last cycle: add the pin changes made since. A
    // cycle whose pin collector failed has none: those of pins.parquet then, with their own time.
    await fillPinCounts(report, kitPath, repo.peerId, report.storage.pins_by_type !== null)
    return report
  }

  // Live figures from Kubo itself.

  const endpoint = await findKuboEndpoint(config, repoPath, {
    managerApi: st?.kubo.api_address ?? null,
    timeoutMs: 5_000,
  }).catch(() => null)
  if (endpoint) {
    // Only needed when the state files cannot answer.
    const { rpcFor } = await import('../kubo/connect.js')
    const rpc = rpcFor(endpoint)
    const [id, version, peers, repoStat] = await Promise.allSettled([
      rpc.id(),
      rpc.version(),
      rpc.swarmPeers(),
      rpc.repoStat({ sizeOnly: true }),
    ])
    if (id.status === 'fulfilled') {
      report.source = 'api'
      report.kubo.peer_id = id.value.id
      if (!st) report.kubo.healthy = true
      if (repo && id.value.id !== repo.peerId) {
        problems.push(`the API answers as peer ${id.value.id}, but ${repoPath} is peer ${repo.peerId}`)
      }
    } else if (!st) {
      problems.push(
        `Kubo's API does not answer: ${id.reason instanceof Error ? id.reason.message : String(id.reason)}`,
      )
    }
    if (version.status === 'fulfilled') report.kubo.version = version.value.version
    if (peers.status === 'fulfilled') report.network.peers = peers.value.length
    if (repoStat.status === 'fulfilled') {
      report.storage.repo_size_bytes = repoStat.value.repoSize
      report.storage.storage_max_bytes = repoStat.value.storageMax
    }
  }
  report.kubo.peer_id ??= repo?.peerId ?? null

  if (repo) await fillPinCounts(report, kitPath, repo.peerId, false)
  return report
}

/**
 * Pin counts as of the last index, with the pin changes made through ipfs-kit since (never a
 * second full pin/ls here). With onlyChanges, leaves the report alone when there are none.
 */
async function fillPinCounts(
  report: DaemonStatusReport,
  kitPath: string,
  peerId: string,
  onlyChanges: boolean,
): Promise<void> {
  const problems = report.problems
  try {
    // The delta first, as `pin list` reads it (see listPins).
    const delta = await readPinDelta(kitPath, peerId).catch((err: unknown) => {
      if (!(err instanceof IndexRejectedError)) throw err
      problems.push(`pin changes since the last index not counted: ${err.message}`)
      return null
    })
    if (onlyChanges && (delta === null || delta.length === 0)) return
    const file = await openIndexFile(indexFilePath(kitPath, 'pins'), 'pins', peerId)
    try {
      const pending = pendingOf(file, delta)
      if (onlyChanges && pending.size === 0) return
      const counts = await countsWithPending(file, pending)
      if (counts) {
        report.storage.pins_by_type = { recursive: counts.recursive, direct: counts.direct }
        report.storage.pin_count = counts.recursive + counts.direct
        report.storage.pins_as_of = counts.asOf.toISOString()
      }
      report.index.last_updated ??= file.header.generatedAt.toISOString()
    } finally {
      await file.close()
    }
  } catch (err) {
    problems.push(`no usable pin index: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** Fills the report from the state files when system, network and storage all pass the reader's checks. */
async function fillFromStateFiles(
  report: DaemonStatusReport,
  kitPath: string,
  peerId: string,
): Promise<boolean> {
  const { readStateFile } = await import('../store/state.js')
  const { NETWORK_META } = await import('../store/layout.js')
  const read = async (kind: 'system' | 'network' | 'storage') => {
    try {
      return await readStateFile(indexFilePath(kitPath, kind), kind, peerId)
    } catch (err) {
      report.problems.push(
        `${kind} state not used: ${err instanceof IndexRejectedError ? err.reason : (err as Error).message}; live figures from Kubo's RPC API instead`,
      )
      return null
    }
  }
  const [system, network, storage] = [await read('system'), await read('network'), await read('storage')]
  if (!system || !network || !storage) return false
  const sys = system.rows[0] ?? {}
  const sto = storage.rows[0] ?? {}
  report.source = 'index'
  report.state_as_of = [system, network, storage]
    .map((s) => s.header.generatedAt.toISOString())
    .sort()[0] as string
  report.kubo.version = typeof sys.kubo_version === 'string' ? sys.kubo_version : null
  if (report.kubo.pid === null && typeof sys.kubo_pid === 'number') report.kubo.pid = sys.kubo_pid
  const peers = network.header.kv[NETWORK_META.peerCount]
  report.network.peers = peers === undefined || peers === '' ? null : Number(peers)
  report.storage.repo_size_bytes = typeof sto.repo_size_bytes === 'number' ? sto.repo_size_bytes : null
  report.storage.storage_max_bytes = typeof sto.storage_max_bytes === 'number' ? sto.storage_max_bytes : null
  if (typeof sto.pins_recursive === 'number' && typeof sto.pins_direct === 'number') {
    report.storage.pins_by_type = { recursive: sto.pins_recursive, direct: sto.pins_direct }
    report.storage.pin_count = sto.pins_recursive + sto.pins_direct
    report.storage.pins_as_of = typeof sto.collected_at === 'string' ? sto.collected_at : null
  }
  report.index.last_updated ??= report.state_as_of
  return true
}
