// `ipfs-kit state [area]`: the latest snapshot of the node's system, network, storage or files
// state, as the manager indexed it. A value Kubo or the system did not report shows as null,
// with the reason.

import { UsageError } from '../errors.js'
import type { StateSnapshot } from '../store/state.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import { humanBytes, timeOf } from './format.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

const AREAS = ['system', 'network', 'storage', 'files'] as const
type Area = (typeof AREAS)[number]

interface AreaResult {
  area: Area
  snapshot: StateSnapshot | null
  problem: string | null
}

function renderArea(r: AreaResult): string {
  if (!r.snapshot) return `${r.area}: not available: ${r.problem}\n`
  const s = r.snapshot
  const lines = [
    `${r.area} (indexed ${s.header.generatedAt.toISOString()}, Kubo ${s.header.kuboVersion ?? 'unknown'})`,
  ]
  if (r.area === 'network') {
    const online = s.header.kv['ipfs_kit.online']
    lines.push(`  online: ${online}`, `  peers: ${s.header.kv['ipfs_kit.peer_count'] || 'unknown'}`)
    for (const p of s.rows) {
      lines.push(
        `  ${p.peer_id}  ${p.address}  ${p.latency_ms === null ? 'latency n/a' : `${Number(p.latency_ms).toFixed(2)} ms`}  ${p.direction ?? '-'}  ${p.muxer ?? '-'}`,
      )
    }
  } else {
    const row = s.rows[0] ?? {}
    const width = Math.max(...Object.keys(row).map((k) => k.length))
    for (const [k, v] of Object.entries(row)) {
      lines.push(
        `  ${k.padEnd(width)}  ${v === null ? `null (${s.nullReasons[k] ?? 'no reason recorded'})` : String(v)}`,
      )
    }
  }
  for (const [k, why] of Object.entries(s.nullReasons)) {
    if (r.area === 'network') lines.push(`  note: ${k}: ${why}`)
  }
  return `${lines.join('\n')}\n`
}

/** The columns `state history` prints per kind (--json has every column). */
const HISTORY_COLUMNS: Record<Area, string[]> = {
  system: [
    'kubo_cpu_percent',
    'kubo_rss_bytes',
    'bw_rate_in_bps',
    'bw_rate_out_bps',
    'bw_total_in_bytes',
    'bw_total_out_bytes',
  ],
  network: [
    'online',
    'peer_count',
    'peers_inbound',
    'peers_outbound',
    'latency_median_ms',
    'dht_wan_peers',
    'dht_lan_peers',
  ],
  storage: ['repo_size_bytes', 'storage_max_bytes', 'num_objects', 'pins_recursive', 'pins_direct'],
  files: [
    'mfs_cumulative_size_bytes',
    'bitswap_data_received_bytes',
    'bitswap_data_sent_bytes',
    'mfs_root_cid',
  ],
}

function cell(column: string, v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'number') {
    if (column.endsWith('_bytes')) return humanBytes(v)
    if (column.endsWith('_bps')) return `${humanBytes(v)}/s`
    return Number.isInteger(v) ? String(v) : v.toFixed(2)
  }
  return String(v)
}

async function runHistory(
  kind: string | undefined,
  values: { json?: boolean; since?: string; until?: string },
) {
  if (kind === undefined || !(AREAS as readonly string[]).includes(kind)) {
    throw new UsageError(
      kind === undefined
        ? `state history: which history? one of: ${AREAS.join(', ')}`
        : `state history: unknown kind ${JSON.stringify(kind.slice(0, 40))}; expected one of: ${AREAS.join(', ')}`,
      { hint: 'e.g. `ipfs-kit state history storage --since 7d`' },
    )
  }
  const area = kind as Area
  const since = timeOf('state history', '--since', values.since)
  const until = timeOf('state history', '--until', values.until)
  if (since && until && since >= until) throw new UsageError('state history: --since must be before --until')
  const { ipfsKitPath, ipfsRepoPath } = await import('../config/paths.js')
  const { readRepoConfig } = await import('../kubo/repo.js')
  const { readDayLog } = await import('../store/day-log.js')
  const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
  if (!repo) {
    io().err(
      `ipfs-kit: state history: no Kubo repository at ${ipfsRepoPath()} to check the history against\n`,
    )
    return 1
  }
  const read = await readDayLog(ipfsKitPath(), `history_${area}`, repo.peerId, {
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  })
  for (const r of read.refused) io().err(`ipfs-kit: state history: refused ${r.path}: ${r.reason}\n`)
  if (read.parts === 0 && read.refused.length === 0 && read.rows.length === 0)
    io().err(
      'ipfs-kit: state history: no history in this range (the daemon adds a row each index cycle: `ipfs-kit daemon start`)\n',
    )
  if (values.json) {
    // One line, as `pin list --json` and `pin events --json`: a row listing of a day is 2,880 rows,
    // and indenting each field made it half as long again, to print and to parse.
    io().out(
      `${JSON.stringify({
        kind: area,
        source: 'index',
        since: since?.toISOString() ?? null,
        until: until?.toISOString() ?? null,
        rows: read.rows,
        refused: read.refused,
      })}\n`,
    )
  } else {
    const columns = ['collected_at', ...HISTORY_COLUMNS[area]]
    const table = [columns, ...read.rows.map((r) => columns.map((c) => cell(c, r[c])))]
    const widths = columns.map((_, i) => Math.max(...table.map((row) => (row[i] as string).length)))
    for (const row of table)
      io().out(
        `${row
          .map((v, i) => v.padEnd(widths[i] as number))
          .join('  ')
          .trimEnd()}\n`,
      )
  }
  // Rows were refused and none could be given: the question was not answered.
  return read.refused.length > 0 && read.parts === 0 ? 1 : 0
}

const group: CommandGroup = {
  name: 'state',
  summary: "the node's state as last indexed",
  subcommands: {
    '': {
      usage:
        'state [system|network|storage|files] [--json]\n  ipfs-kit state history <system|network|storage|files> [--since <t>] [--until <t>] [--json]\n  ipfs-kit state peers [--history [--since <t>] [--until <t>]] [--json]',
      summary:
        'the latest snapshot of one area, or all of them; exit 1 when one cannot be shown. `state history`: one row per index cycle, in time order, kept history.retention_days',
      options: [
        '--json            machine-readable output',
        '--since <t>       (history) rows at or after t: a duration before now (90m, 36h, 7d, 2w) or an ISO time',
        '--until <t>       (history) rows before t, the same forms',
        '--history         (peers) every peer connected in the range: sessions, first and last seen, bandwidth',
        '                  peers --json: {"generated_at","peers":[{"peer_id","addr","direction","latency_ms","agent",',
        '                  "protocols","streams","bw_in_bytes","bw_out_bytes","rate_in_bps","rate_out_bps","bw_at","connected_since"}]}',
      ],
      async run(args) {
        const { values, positionals } = parseFlags(
          'state',
          args,
          {
            ...JSON_FLAG,
            since: { type: 'string' },
            until: { type: 'string' },
            history: { type: 'boolean' },
          },
          { max: 2 },
        )
        if (values.history && positionals[0] !== 'peers')
          throw new UsageError(
            'state: --history is for `state peers`; for the other areas use `state history <kind>`',
          )
        if (positionals[0] === 'history') return runHistory(positionals[1], values)
        if (positionals[0] === 'peers') {
          if (positionals.length > 1)
            throw new UsageError(
              `state peers: unexpected argument ${JSON.stringify(positionals[1]?.slice(0, 40))}`,
            )
          const { runPeers } = await import('./peers.js')
          const since = timeOf('state peers', '--since', values.since)
          const until = timeOf('state peers', '--until', values.until)
          if (since && until && since >= until)
            throw new UsageError('state peers: --since must be before --until')
          return runPeers({
            ...(values.json ? { json: true } : {}),
            ...(values.history ? { history: true } : {}),
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
          })
        }
        if (positionals.length > 1)
          throw new UsageError(`state: unexpected argument ${JSON.stringify(positionals[1]?.slice(0, 40))}`)
        if (values.since !== undefined || values.until !== undefined)
          throw new UsageError('state: --since and --until are for `state history <kind>`')
        const asked = positionals[0]
        if (asked !== undefined && !(AREAS as readonly string[]).includes(asked)) {
          throw new UsageError(
            `state: unknown area ${JSON.stringify(asked.slice(0, 40))}; expected one of: ${AREAS.join(', ')}`,
          )
        }
        const areas: Area[] = asked ? [asked as Area] : [...AREAS]
        const { ipfsKitPath, ipfsRepoPath } = await import('../config/paths.js')
        const { readRepoConfig } = await import('../kubo/repo.js')
        const { indexFilePath } = await import('../store/layout.js')
        const { readStateFile } = await import('../store/state.js')
        const { IndexMissingError, IndexRejectedError } = await import('../errors.js')
        const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
        const results: AreaResult[] = []
        for (const area of areas) {
          if (!repo) {
            results.push({
              area,
              snapshot: null,
              problem: `no Kubo repository at ${ipfsRepoPath()} to check the state files against`,
            })
            continue
          }
          try {
            results.push({
              area,
              snapshot: await readStateFile(indexFilePath(ipfsKitPath(), area), area, repo.peerId),
              problem: null,
            })
          } catch (err) {
            if (!(err instanceof IndexRejectedError)) throw err
            const problem =
              err instanceof IndexMissingError
                ? `${area}_state.parquet is not written yet (start the daemon: \`ipfs-kit daemon start\`)`
                : `${area}_state.parquet ${err.reason}`
            results.push({ area, snapshot: null, problem })
          }
        }
        for (const r of results) if (r.problem) io().err(`ipfs-kit: state ${r.area}: ${r.problem}\n`)
        if (values.json) {
          const out = Object.fromEntries(
            results.map((r) => [
              r.area,
              r.snapshot
                ? {
                    source: 'index',
                    generated_at: r.snapshot.header.generatedAt.toISOString(),
                    kubo_version: r.snapshot.header.kuboVersion,
                    ...(r.area === 'network'
                      ? {
                          online: r.snapshot.header.kv['ipfs_kit.online'] === 'true',
                          peer_count: r.snapshot.header.kv['ipfs_kit.peer_count']
                            ? Number(r.snapshot.header.kv['ipfs_kit.peer_count'])
                            : null,
                          peers: r.snapshot.rows,
                        }
                      : { values: r.snapshot.rows[0] ?? null }),
                    null_reasons: r.snapshot.nullReasons,
                  }
                : { source: null, problem: r.problem },
            ]),
          )
          io().out(`${JSON.stringify(asked ? out[asked] : out, null, 2)}\n`)
        } else {
          io().out(results.map(renderArea).join('\n'))
        }
        return results.every((r) => r.snapshot) ? 0 : 1
      },
    },
  },
}
export default group
