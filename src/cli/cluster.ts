// `ipfs-kit cluster ...`: the IPFS Cluster pinset and peers, from the index the manager keeps when
// cluster.enabled (cluster/query.ts), falling back to Cluster's REST API with the reason on stderr.

import type { ClusterPinListing, ClusterPinOut, ClusterStatusAnswer } from '../cluster/query.js'
import { UsageError } from '../errors.js'
import { JSON_FLAG, parseFlags, parseLimit } from './flags.js'
import { humanBytes, timeAgo } from './format.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

/** "pinned 2/2" when every holder reports one status, else each status with its count. */
function statusText(p: ClusterPinOut): string {
  if (p.peer_status === null) return 'not read yet'
  const counts = new Map<string, number>()
  for (const s of Object.values(p.peer_status)) counts.set(s.status, (counts.get(s.status) ?? 0) + 1)
  return [...counts].map(([s, n]) => `${s} ${n}`).join(', ')
}

function pinTable(l: ClusterPinListing): string {
  const w = Math.max(3, ...l.pins.map((p) => p.cid.length))
  const lines = [`${'CID'.padEnd(w)}  ${'NAME'.padEnd(20)}  REPL    ALLOC  STATUS (peers)`]
  for (const p of l.pins) {
    const repl = `${p.replication_min}/${p.replication_max}`
    const alloc = p.allocations.length === 0 ? 'all' : String(p.allocations.length)
    lines.push(
      `${p.cid.padEnd(w)}  ${(p.name ?? '').slice(0, 20).padEnd(20)}  ${repl.padEnd(6)}  ${alloc.padStart(5)}  ${statusText(p)}`,
    )
  }
  const src =
    l.source === 'index'
      ? `from the cluster index, written ${timeAgo(l.generated_at)}`
      : "from Cluster's REST API"
  lines.push(`${l.pins.length} of ${l.total ?? '?'} shown · ${src}`)
  return `${lines.join('\n')}\n`
}

function statusTextOf(s: ClusterStatusAnswer): string {
  const lines = [
    `Cluster peer: ${s.peer_id}${s.peername ? ` (${s.peername})` : ''}${s.version ? `, version ${s.version}` : ''}`,
    `  pins on Kubo: ${s.ipfs_peer_id ?? 'unknown'}`,
    `pins:         ${s.pins.total}, ${s.pins.fully_pinned} pinned on every peer they are allocated to${s.pins.status_unknown ? `, ${s.pins.status_unknown} not read yet` : ''}`,
    `  by status:  ${
      Object.entries(s.pins.by_status)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    `  statuses:   ${s.status_at ? `read ${timeAgo(s.status_at)}` : 'never read'}${s.status_error ? ` (last read failed: ${s.status_error})` : ''}`,
    '',
    `peers (${s.peers.length}):`,
  ]
  for (const p of s.peers) {
    const counts = Object.entries(p.pins_by_status)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    lines.push(
      `  ${p.id}  ${(p.peername || '-').padEnd(12)}  free ${p.free_space_bytes === null ? 'unknown' : humanBytes(p.free_space_bytes)}  ${counts || 'no pins'}${p.error ? `  ! ${p.error}` : ''}`,
    )
  }
  lines.push(
    '',
    s.source === 'index'
      ? `from the cluster index, written ${timeAgo(s.generated_at)}`
      : "from Cluster's REST API",
  )
  return `${lines.join('\n')}\n`
}

function reportFallback(a: { source: string; fallback_reason?: string }): void {
  if (a.source !== 'index' && a.fallback_reason)
    io().err(`ipfs-kit: answered from Cluster's REST API: ${a.fallback_reason}\n`)
}

const group: CommandGroup = {
  name: 'cluster',
  summary: 'the IPFS Cluster pinset and peers, from the index (cluster.enabled)',
  subcommands: {
    status: {
      usage: 'cluster status [--json]',
      summary:
        'the Cluster peer beside this node, every peer (its Kubo, free space, pins by status), pins by status',
      options: [
        '--json            {"source","generated_at","peer_id","ipfs_peer_id","peers":[{"id","peername","ipfs_peer_id","free_space_bytes","error","pins_by_status"}],"pins":{"total","by_status","fully_pinned","status_unknown"},"status_at","status_error"}',
      ],
      async run(args) {
        const { values } = parseFlags('cluster status', args, JSON_FLAG)
        const { clusterStatus } = await import('../cluster/query.js')
        const s = await clusterStatus()
        reportFallback(s)
        io().out(values.json ? `${JSON.stringify(s, null, 2)}\n` : statusTextOf(s))
        return 0
      },
    },
    pin: {
      usage: 'cluster pin list [--cid <cid>] [--name <text>] [--status <status>] [--limit <n>] [--json]',
      summary: "the cluster pinset: each pin with its replication, allocations and every peer's status",
      options: [
        '--cid <cid>         only this CID (either spelling of a v0/v1 CID)',
        '--name <text>       pins whose name contains the text',
        '--status <status>   pins some peer reports with this status (pinned, pinning, queued, pin_error, cluster_error, ...)',
        '--limit <n>         at most n pins (default 100; 0 = all)',
        '--json              {"source","generated_at","total","pins":[{"cid","name","type","replication_min","replication_max","allocations","peer_status","status_at","metadata","timestamp","expire_at"}]}',
      ],
      async run(args) {
        if (args[0] !== 'list')
          throw new UsageError(`unknown subcommand 'cluster pin ${args[0] ?? ''}'; expected: list`, {
            hint: 'see `ipfs-kit cluster pin --help`',
          })
        const { values } = parseFlags('cluster pin list', args.slice(1), {
          ...JSON_FLAG,
          cid: { type: 'string' },
          name: { type: 'string' },
          status: { type: 'string' },
          limit: { type: 'string' },
        })
        // Every flag checked before anything that reads the index is loaded (bad input: exit 2, nothing read).
        const limit = parseLimit(values.limit, 'cluster pin list')
        const { CLUSTER_STATUSES } = await import('../cluster/statuses.js')
        if (values.status !== undefined && !(CLUSTER_STATUSES as readonly string[]).includes(values.status))
          throw new UsageError(
            `cluster pin list: unknown status ${JSON.stringify(values.status.slice(0, 40))}; Cluster's statuses are ${CLUSTER_STATUSES.join(', ')}`,
          )
        let cid: string[] | undefined
        if (values.cid !== undefined) {
          const { parseUserCid } = await import('../pins/cid.js')
          cid = (await parseUserCid(values.cid)).spellings
        }
        const { clusterPinList } = await import('../cluster/query.js')
        const listing = await clusterPinList({
          limit,
          ...(cid ? { cid } : {}),
          ...(values.name !== undefined ? { name: values.name } : {}),
          ...(values.status !== undefined ? { status: values.status } : {}),
        })
        reportFallback(listing)
        io().out(values.json ? `${JSON.stringify(listing)}\n` : pinTable(listing))
        return 0
      },
    },
  },
}
export default group
