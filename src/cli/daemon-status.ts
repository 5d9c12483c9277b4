// `ipfs-kit daemon status` in words: the report of status/daemon-status.ts, one screen.
import type { DaemonStatusReport } from '../status/daemon-status.js'
import { humanBytes, timeAgo } from './format.js'

function age(iso: string | null): string {
  return iso ? `${iso} (${timeAgo(iso)})` : 'never'
}

export function renderDaemonStatus(r: DaemonStatusReport): string {
  const dot = r.manager.running ? '●' : '○'
  const k = r.kubo
  const lines = [
    `${dot} ipfs-kit daemon: ${r.manager.running ? `running (pid ${r.manager.pid}, up ${r.manager.uptime_s} s${r.manager.ready ? '' : ', starting'})` : 'not running'}`,
    `  Kubo:     ${k.version ?? 'unknown version'}, peer ${k.peer_id ?? 'unknown'}`,
    `            ${k.mode === 'attached' ? 'attached (not managed)' : k.mode === 'started' ? `started by ipfs-kit (pid ${k.pid})` : 'not managed'}, ${k.healthy ? 'healthy' : 'NOT HEALTHY'}${k.api_address ? `, API ${k.api_address}` : ''}`,
  ]
  if (k.restarts !== null) {
    lines.push(
      `            restarts: ${k.restarts}${k.last_exit ? `, last exit: ${k.last_exit.reason} at ${k.last_exit.at}` : ''}`,
    )
  }
  const i = r.index
  lines.push(
    `  Index:    ${i.running ? 'running' : i.paused ? 'paused' : 'not running'}, every ${i.effective_interval_s ?? i.interval_s} s${i.stretched_reason ? ` (stretched: ${i.stretched_reason})` : ''}`,
    `            last updated ${age(i.last_updated)}`,
  )
  for (const [name, error] of Object.entries(i.errors)) lines.push(`            ${name}: ERROR ${error}`)
  lines.push(`  Network:  ${r.network.peers === null ? 'unknown' : `${r.network.peers} peers`}`)
  const s = r.storage
  lines.push(
    `  Storage:  repo ${humanBytes(s.repo_size_bytes)} of ${humanBytes(s.storage_max_bytes)}`,
    `            pins: ${s.pins_by_type ? `${s.pin_count} (${s.pins_by_type.recursive} recursive, ${s.pins_by_type.direct} direct) as of ${s.pins_as_of}` : 'unknown'}`,
  )
  if (r.http.url) {
    lines.push(
      `  HTTP:     ${r.http.url} (dashboard: \`ipfs-kit dashboard\`; metrics: /metrics)`,
      `            Pinning Service API: ${r.http.pinning_endpoint}${r.http.pin_requests !== null ? ` (${r.http.pin_requests} requests)` : ''}`,
    )
  } else if (r.http.state !== null) lines.push(`  HTTP:     ${r.http.state}`)
  if (r.proxy.api)
    lines.push(
      `  Proxy:    ${r.proxy.api} (ipfs --api ${r.proxy.api} ...: pin changes show at once; ${r.proxy.requests} calls so far)`,
    )
  const q = r.queries
  if (q)
    lines.push(
      `  Queries:  ${q.answered} answered by the manager, ${q.declined} declined${q.last_declined ? ` (last: ${q.last_declined})` : ''} (IPFS_KIT_NO_WARM=1: none)`,
      ...(q.worker_pid !== null ? [`            answered by its worker process, pid ${q.worker_pid}`] : []),
    )
  const c = r.cluster
  if (c) {
    lines.push(
      `  Cluster:  ${c.version ?? 'unknown version'}, peer ${c.peer_id ?? 'unknown'}${c.peername ? ` (${c.peername})` : ''}`,
      `            ${c.mode === 'attached' ? 'attached (not managed)' : c.mode === 'started' ? `started by ipfs-kit (pid ${c.pid})` : 'not running'}, ${c.healthy ? 'healthy' : 'NOT HEALTHY'}, API ${c.api}, restarts: ${c.restarts}`,
      `            ${c.pins === null ? 'pinset not indexed yet' : `${c.pins} cluster pins indexed`}${c.status_at ? `, peer statuses read ${timeAgo(c.status_at)}` : ''} (\`ipfs-kit cluster status\`)`,
    )
  }
  if (r.source === 'index') lines.push(`  (Kubo, network and storage as indexed ${age(r.state_as_of)})`)
  if (r.source === 'api') lines.push(`  (live figures from Kubo's RPC API)`)
  for (const p of r.problems) lines.push(`  ! ${p}`)
  return `${lines.join('\n')}\n`
}
