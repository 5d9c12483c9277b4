// The program-state collectors: the node's system, network, storage and files state, one
// Parquet file each (latest snapshot). Every value comes from Kubo, /proc or the manager
// itself; a value that could not be read is null and its reason is kept in the file.
import { readFile } from 'node:fs/promises'
import { loadavg, totalmem } from 'node:os'
import type { KuboRpc } from '../kubo/rpc.js'
import { indexFilePath, NETWORK_META } from '../store/layout.js'
import type { StateKind, StateRow } from '../store/state.js'
import { writeStateFile } from '../store/state-writer.js'
import type { DayLogWriter } from './day-log.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'

/** What the manager knows that Kubo does not say: fed to the collectors each cycle. */
export interface StateSources {
  kitPath: string
  ipfsPath: string
  writer: string
  offline: boolean
  managerStartedAt: number
  /** The Kubo process, when known (null for an attached daemon whose pid cannot be seen). */
  kuboPid: () => number | null
  /**
   * Pin counts from this cycle's pin collector (never a second pin/ls), or why there are none:
   * counts of an earlier cycle must not appear under this cycle's time.
   */
  pinCounts: (cycle: number) => PinCountsAnswer
  /** Pin changes made through ipfs-kit since the manager started. */
  pinChanges: () => { adds: number; removes: number }
  /** Where each cycle's row of a state kind is kept as history (none: no history kept). */
  history?: Partial<Record<StateKind, DayLogWriter>>
  /** Told each cycle's row of a state kind once its file is written (network: the summary row). */
  onRow?: (kind: StateKind, row: StateRow) => void
}

export type PinCountsAnswer = { recursive: number; direct: number } | { reason: string }

/**
 * The pin counts the pin collector took, kept with the number of the cycle that took them, so
 * that the storage state reports them for that cycle only. `failure` says why the pin collector
 * has no counts of a cycle (its last error), when it knows.
 */
export function pinCountsByCycle(failure: () => string | null = () => null) {
  let last: { cycle: number; counts: { recursive: number; direct: number } } | null = null
  return {
    record(counts: { recursive: number; direct: number }, cycle: number): void {
      last = { cycle, counts }
    },
    forCycle(cycle: number): PinCountsAnswer {
      if (last?.cycle === cycle) return last.counts
      const error = failure()
      return {
        reason: error
          ? `the pin collector failed in this cycle: ${error}`
          : 'the pin collector did not count the pins in this cycle',
      }
    },
  }
}

/** Runs one RPC call; on failure records the reason for the columns it would have filled. */
async function attempt<T>(
  reasons: Record<string, string>,
  columns: string[],
  failures: string[],
  what: string,
  call: () => Promise<T>,
): Promise<T | null> {
  try {
    return await call()
  } catch (err) {
    const message = `${what} failed: ${err instanceof Error ? err.message : String(err)}`
    failures.push(message)
    for (const c of columns) reasons[c] = message
    return null
  }
}

function nullIfMissing(row: StateRow, reasons: Record<string, string>, reason: string): void {
  for (const [k, v] of Object.entries(row)) if (v === null && reasons[k] === undefined) reasons[k] = reason
}

async function write(
  sources: StateSources,
  ctx: CollectContext,
  kind: StateKind,
  rows: StateRow[],
  reasons: Record<string, string>,
  extra: Record<string, string> = {},
  historyRow: StateRow | undefined = rows[0],
): Promise<CollectorOutcome> {
  await writeStateFile(
    indexFilePath(sources.kitPath, kind),
    kind,
    { writer: sources.writer, peerId: ctx.peerId, kuboVersion: ctx.kuboVersion, generatedAt: new Date() },
    rows,
    reasons,
    extra,
  )
  if (historyRow) sources.onRow?.(kind, historyRow)
  // The snapshot first: a failed history write costs its row, never the latest state.
  const history = sources.history?.[kind]
  if (history && historyRow) {
    await history.append(ctx, [historyRow], reasons)
    await history.prune(ctx)
  }
  return { wrote: true, rows: rows.length }
}

/** When every call of a collector failed, the collector failed: nothing true to write. */
function allFailed(failures: string[], calls: number): void {
  if (failures.length === calls) throw new Error(failures.join('; '))
}

// --- /proc readings ------------------------------------------------------------------------

export async function procStat(pid: number): Promise<{ ticks: number } | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the command name.
    return { ticks: Number(fields[11]) + Number(fields[12]) }
  } catch {
    return null
  }
}

async function totalCpuTicks(): Promise<{ ticks: number; cpus: number } | null> {
  try {
    const lines = (await readFile('/proc/stat', 'utf8')).split('\n')
    const total = (lines[0] ?? '')
      .split(/\s+/)
      .slice(1)
      .reduce((sum, v) => sum + (Number(v) || 0), 0)
    const cpus = lines.filter((l) => /^cpu\d+ /.test(l)).length
    return { ticks: total, cpus }
  } catch {
    return null
  }
}

async function rssBytes(pid: number): Promise<number | null> {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

async function memAvailable(): Promise<number | null> {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(await readFile('/proc/meminfo', 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Kubo's latency strings ("1.234ms", "850µs", "2s", "n/a") in milliseconds; null when not a duration. */
export function latencyMs(text: string | null): number | null {
  if (!text) return null
  const m = /^([\d.]+)(ns|µs|us|ms|s|m)$/.exec(text.trim())
  if (!m) return null
  const factor: Record<string, number> = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1e3, m: 6e4 }
  return Number(m[1]) * (factor[m[2] as string] as number)
}

// --- collectors ----------------------------------------------------------------------------

export function systemCollector(sources: StateSources): Collector {
  let lastSample: { pid: number; proc: number; total: number; cpus: number } | null = null
  return {
    name: 'system',
    async run(ctx) {
      const reasons: Record<string, string> = {}
      const failures: string[] = []
      const rpc: KuboRpc = ctx.rpc
      const [version, bw] = await Promise.all([
        attempt(
          reasons,
          ['kubo_version', 'kubo_commit', 'go_version', 'repo_version', 'kubo_system'],
          failures,
          'version',
          () => rpc.version({ signal: ctx.signal }),
        ),
        attempt(
          reasons,
          ['bw_total_in_bytes', 'bw_total_out_bytes', 'bw_rate_in_bps', 'bw_rate_out_bps'],
          failures,
          'stats/bw',
          () => rpc.statsBw({}, { signal: ctx.signal }),
        ),
      ])
      allFailed(failures, 2)
      const pid = sources.kuboPid()
      let cpu: number | null = null
      let rss: number | null = null
      if (pid === null) {
        for (const c of ['kubo_pid', 'kubo_cpu_percent', 'kubo_rss_bytes']) {
          reasons[c] = 'the Kubo process is not known (an attached daemon whose repo lock shows no pid)'
        }
      } else {
        const [proc, total] = await Promise.all([procStat(pid), totalCpuTicks()])
        rss = await rssBytes(pid)
        if (proc && total) {
          if (lastSample && lastSample.pid === pid && total.ticks > lastSample.total) {
            // Share of all CPU time since the last sample, as a percentage of one core.
            cpu = ((proc.ticks - lastSample.proc) / (total.ticks - lastSample.total)) * total.cpus * 100
          } else {
            reasons.kubo_cpu_percent = 'needs two samples of /proc; known from the next cycle on'
          }
          lastSample = { pid, proc: proc.ticks, total: total.ticks, cpus: total.cpus }
        } else {
          reasons.kubo_cpu_percent = `cannot read /proc/${pid}/stat or /proc/stat`
        }
        if (rss === null) reasons.kubo_rss_bytes = `cannot read VmRSS from /proc/${pid}/status`
      }
      const [l1, l5, l15] = loadavg()
      const row: StateRow = {
        collected_at: new Date(),
        kubo_version: version?.version ?? null,
        kubo_commit: version?.commit ?? null,
        go_version: version?.golang ?? null,
        repo_version: version?.repo ?? null,
        kubo_system: version?.system ?? null,
        kubo_pid: pid,
        kubo_cpu_percent: cpu,
        kubo_rss_bytes: rss,
        manager_pid: process.pid,
        manager_uptime_s: (Date.now() - sources.managerStartedAt) / 1000,
        host_load_1m: l1 ?? null,
        host_load_5m: l5 ?? null,
        host_load_15m: l15 ?? null,
        host_mem_total_bytes: totalmem(),
        host_mem_available_bytes: await memAvailable(),
        bw_total_in_bytes: bw?.totalIn ?? null,
        bw_total_out_bytes: bw?.totalOut ?? null,
        bw_rate_in_bps: bw?.rateIn ?? null,
        bw_rate_out_bps: bw?.rateOut ?? null,
      }
      if (version && version.commit === null) {
        reasons.kubo_commit = 'Kubo reports an empty commit (a build without version-control information)'
      }
      nullIfMissing(row, reasons, 'not reported by Kubo or the operating system')
      return write(sources, ctx, 'system', [row], reasons)
    },
  }
}

export function networkCollector(sources: StateSources): Collector {
  return {
    name: 'network',
    async run(ctx) {
      const reasons: Record<string, string> = {}
      if (sources.offline) {
        reasons.peer_count = 'offline'
        reasons.dht_wan_peers = 'offline'
        reasons.dht_lan_peers = 'offline'
        return write(
          sources,
          ctx,
          'network',
          [],
          reasons,
          { [NETWORK_META.online]: 'false', [NETWORK_META.peerCount]: '' },
          networkSummary(null),
        )
      }
      const peers = await ctx.rpc.swarmPeers({}, { signal: ctx.signal })
      const rows: StateRow[] = peers.map((p) => ({
        peer_id: p.peer,
        address: p.addr,
        latency_ms: latencyMs(p.latency),
        direction: p.direction,
        muxer: p.muxer,
      }))
      if (rows.some((r) => r.latency_ms === null))
        reasons.latency_ms = 'Kubo reported no latency for some peers'
      if (rows.some((r) => r.direction === null))
        reasons.direction = 'Kubo reported an unknown direction for some peers'
      if (rows.some((r) => r.muxer === null)) reasons.muxer = 'Kubo reported no muxer for some peers'
      const summary = networkSummary(rows)
      try {
        const tables = await ctx.rpc.dhtRoutingTables({ signal: ctx.signal })
        for (const name of ['wan', 'lan'] as const) {
          summary[`dht_${name}_peers`] = tables[name] ?? null
          if (tables[name] === undefined) reasons[`dht_${name}_peers`] = `Kubo runs no ${name} DHT`
        }
      } catch (err) {
        const why = `stats/dht failed: ${err instanceof Error ? err.message : String(err)}`
        reasons.dht_wan_peers = why
        reasons.dht_lan_peers = why
      }
      return write(
        sources,
        ctx,
        'network',
        rows,
        reasons,
        { [NETWORK_META.online]: 'true', [NETWORK_META.peerCount]: String(rows.length) },
        summary,
      )
    },
  }
}

/** The history row of a network snapshot: how many peers, which way, the median latency (null when none is known or offline). */
export function networkSummary(peers: StateRow[] | null): StateRow {
  const latencies = (peers ?? [])
    .map((p) => p.latency_ms)
    .filter((v): v is number => typeof v === 'number')
    .sort((a, b) => a - b)
  const mid = latencies.length >> 1
  const median =
    latencies.length === 0
      ? null
      : latencies.length % 2 === 1
        ? (latencies[mid] as number)
        : ((latencies[mid - 1] as number) + (latencies[mid] as number)) / 2
  return {
    collected_at: new Date(),
    online: peers !== null,
    peer_count: peers?.length ?? null,
    peers_inbound: peers ? peers.filter((p) => p.direction === 'inbound').length : null,
    peers_outbound: peers ? peers.filter((p) => p.direction === 'outbound').length : null,
    latency_median_ms: median,
    dht_wan_peers: null,
    dht_lan_peers: null,
  }
}

/** The object count walks every block: take it at most every `everyCycles` cycles. */
export function storageCollector(sources: StateSources, everyCycles = 10): Collector {
  let objects: { count: number; at: Date } | null = null
  let runs = 0
  return {
    name: 'storage',
    async run(ctx) {
      const reasons: Record<string, string> = {}
      const failures: string[] = []
      const full = runs % everyCycles === 0
      runs++
      const stat = await attempt(
        reasons,
        ['repo_size_bytes', 'storage_max_bytes'],
        failures,
        'repo/stat',
        () => ctx.rpc.repoStat({ sizeOnly: !full }, { signal: ctx.signal }),
      )
      allFailed(failures, 1)
      if (full && stat?.numObjects !== null && stat?.numObjects !== undefined) {
        objects = { count: stat.numObjects, at: new Date() }
      }
      if (!objects) reasons.num_objects = 'not counted yet (a full count walks every block)'
      const answer = sources.pinCounts(ctx.cycle)
      const counts = 'reason' in answer ? null : answer
      if ('reason' in answer) {
        reasons.pins_recursive = answer.reason
        reasons.pins_direct = answer.reason
      }
      const row: StateRow = {
        collected_at: new Date(),
        repo_path: sources.ipfsPath,
        repo_size_bytes: stat?.repoSize ?? null,
        storage_max_bytes: stat?.storageMax ?? null,
        num_objects: objects?.count ?? null,
        num_objects_at: objects?.at ?? null,
        pins_recursive: counts?.recursive ?? null,
        pins_direct: counts?.direct ?? null,
      }
      if (row.num_objects_at === null) reasons.num_objects_at = reasons.num_objects as string
      return write(sources, ctx, 'storage', [row], reasons)
    },
  }
}

export function filesCollector(sources: StateSources): Collector {
  return {
    name: 'files',
    async run(ctx) {
      const reasons: Record<string, string> = {}
      const failures: string[] = []
      const [root, bitswap] = await Promise.all([
        attempt(
          reasons,
          ['mfs_root_cid', 'mfs_cumulative_size_bytes', 'mfs_blocks'],
          failures,
          'files/stat',
          () => ctx.rpc.filesStat('/', { signal: ctx.signal }),
        ),
        attempt(
          reasons,
          [
            'bitswap_blocks_received',
            'bitswap_data_received_bytes',
            'bitswap_dup_blocks_received',
            'bitswap_dup_data_received_bytes',
            'bitswap_blocks_sent',
            'bitswap_data_sent_bytes',
          ],
          failures,
          'bitswap/stat',
          () => ctx.rpc.bitswapStat({ signal: ctx.signal }),
        ),
      ])
      allFailed(failures, 2)
      const changes = sources.pinChanges()
      const row: StateRow = {
        collected_at: new Date(),
        mfs_root_cid: root?.hash ?? null,
        mfs_cumulative_size_bytes: root?.cumulativeSize ?? null,
        mfs_blocks: root?.blocks ?? null,
        bitswap_blocks_received: bitswap?.blocksReceived ?? null,
        bitswap_data_received_bytes: bitswap?.dataReceived ?? null,
        bitswap_dup_blocks_received: bitswap?.dupBlksReceived ?? null,
        bitswap_dup_data_received_bytes: bitswap?.dupDataReceived ?? null,
        bitswap_blocks_sent: bitswap?.blocksSent ?? null,
        bitswap_data_sent_bytes: bitswap?.dataSent ?? null,
        pin_adds_via_ipfs_kit: changes.adds,
        pin_removes_via_ipfs_kit: changes.removes,
      }
      return write(sources, ctx, 'files', [row], reasons)
    },
  }
}
