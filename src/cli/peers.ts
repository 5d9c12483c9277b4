// `ipfs-kit state peers [--history]`: the connected peers as the last cycle saw them
// (peers.parquet), or, with --history, every peer this node was connected to in a time range,
// from the ended sessions (the peer_sessions day log) and the current ones.

import { UsageError } from '../errors.js'
import type { JsonRow } from '../store/state.js'
import { humanBytes } from './format.js'
import { io } from './io.js'

/** A peers.parquet row as the CLI gives it: protocols as a list. */
function shown(row: JsonRow): Record<string, unknown> {
  return { ...row, protocols: typeof row.protocols === 'string' ? row.protocols.split(' ') : null }
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] as string).length)))
  return all
    .map(
      (r) =>
        `${r
          .map((v, i) => v.padEnd(widths[i] as number))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('')
}

const bytes = (v: unknown) => (typeof v === 'number' ? humanBytes(v) : '-')

export interface PeerHistoryRow {
  peer_id: string
  agent: string | null
  /** When the first session of the range began (its connected_since). */
  first_seen: string
  /** The last cycle that saw the peer connected. */
  last_seen: string
  sessions: number
  connected_now: boolean
  /**
   * The latest bandwidth figure Kubo gave for the peer: its counter since Kubo first saw the
   * peer (not per session, and reset when Kubo restarts), with when it was taken.
   */
  bw_in_bytes: number | null
  bw_out_bytes: number | null
  bw_at: string | null
}

export async function runPeers(values: { json?: boolean; history?: boolean; since?: Date; until?: Date }) {
  if (!values.history && (values.since || values.until))
    throw new UsageError('state peers: --since and --until need --history')
  const { ipfsKitPath, ipfsRepoPath } = await import('../config/paths.js')
  const { readRepoConfig } = await import('../kubo/repo.js')
  const { indexFilePath } = await import('../store/layout.js')
  const { readStateFile } = await import('../store/state.js')
  const { IndexMissingError, IndexRejectedError } = await import('../errors.js')
  const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
  if (!repo) {
    io().err(`ipfs-kit: state peers: no Kubo repository at ${ipfsRepoPath()} to check the peers against\n`)
    return 1
  }
  let current: Awaited<ReturnType<typeof readStateFile>> | null = null
  let problem: string | null = null
  try {
    current = await readStateFile(indexFilePath(ipfsKitPath(), 'peers'), 'peers', repo.peerId)
  } catch (err) {
    if (!(err instanceof IndexRejectedError)) throw err
    problem =
      err instanceof IndexMissingError
        ? 'peers.parquet is not written yet (start the daemon: `ipfs-kit daemon start`)'
        : `peers.parquet ${err.reason}`
    io().err(`ipfs-kit: state peers: ${problem}\n`)
  }
  if (!values.history) {
    if (!current) return 1
    if (values.json) {
      io().out(
        `${JSON.stringify(
          {
            source: 'index',
            generated_at: current.header.generatedAt.toISOString(),
            peers: current.rows.map(shown),
            null_reasons: current.nullReasons,
          },
          null,
          2,
        )}\n`,
      )
    } else {
      io().out(
        table(
          ['PEER', 'DIRECTION', 'LATENCY', 'AGENT', 'IN', 'OUT', 'BW_AT', 'CONNECTED_SINCE'],
          current.rows.map((r) => [
            String(r.peer_id),
            String(r.direction ?? '-'),
            typeof r.latency_ms === 'number' ? `${r.latency_ms.toFixed(1)} ms` : '-',
            String(r.agent ?? '-'),
            bytes(r.bw_in_bytes),
            bytes(r.bw_out_bytes),
            String(r.bw_at ?? '-'),
            String(r.connected_since),
          ]),
        ),
      )
      io().err(`${current.rows.length} peers · indexed ${current.header.generatedAt.toISOString()}\n`)
    }
    return 0
  }

  const { readDayLog } = await import('../store/day-log.js')
  const since = values.since?.getTime() ?? Number.NEGATIVE_INFINITY
  const until = values.until?.getTime() ?? Number.POSITIVE_INFINITY
  // A session ended at or after `since` overlapped the range if it began before `until`.
  const ended = await readDayLog(
    ipfsKitPath(),
    'peer_sessions',
    repo.peerId,
    values.since ? { since: values.since } : {},
  )
  for (const r of ended.refused) io().err(`ipfs-kit: state peers: refused ${r.path}: ${r.reason}\n`)
  const byPeer = new Map<string, PeerHistoryRow>()
  const add = (r: JsonRow, connectedNow: boolean) => {
    const start = Date.parse(String(r.connected_since))
    if (!(start < until)) return
    const lastSeen = String(connectedNow ? r.collected_at : r.last_seen)
    if (Date.parse(lastSeen) < since) return
    const peer = String(r.peer_id)
    const h = byPeer.get(peer) ?? {
      peer_id: peer,
      agent: null,
      first_seen: String(r.connected_since),
      last_seen: lastSeen,
      sessions: 0,
      connected_now: false,
      bw_in_bytes: null,
      bw_out_bytes: null,
      bw_at: null,
    }
    h.sessions++
    h.connected_now ||= connectedNow
    if (String(r.connected_since) < h.first_seen) h.first_seen = String(r.connected_since)
    if (lastSeen > h.last_seen) h.last_seen = lastSeen
    if (typeof r.agent === 'string') h.agent = r.agent
    if (typeof r.bw_at === 'string' && (h.bw_at === null || r.bw_at > h.bw_at)) {
      h.bw_at = r.bw_at
      h.bw_in_bytes = typeof r.bw_in_bytes === 'number' ? r.bw_in_bytes : null
      h.bw_out_bytes = typeof r.bw_out_bytes === 'number' ? r.bw_out_bytes : null
    }
    byPeer.set(peer, h)
  }
  for (const r of ended.rows) add(r, false)
  for (const r of current?.rows ?? []) add(r, true)
  const peers = [...byPeer.values()].sort((a, b) =>
    a.last_seen === b.last_seen ? (a.peer_id < b.peer_id ? -1 : 1) : a.last_seen > b.last_seen ? -1 : 1,
  )
  if (values.json) {
    io().out(
      `${JSON.stringify(
        {
          source: 'index',
          since: values.since?.toISOString() ?? null,
          until: values.until?.toISOString() ?? null,
          peers,
          refused: ended.refused,
          problem,
        },
        null,
        2,
      )}\n`,
    )
  } else {
    io().out(
      table(
        ['PEER', 'AGENT', 'SESSIONS', 'NOW', 'FIRST_SEEN', 'LAST_SEEN', 'IN', 'OUT'],
        peers.map((p) => [
          p.peer_id,
          p.agent ?? '-',
          String(p.sessions),
          p.connected_now ? 'yes' : 'no',
          p.first_seen,
          p.last_seen,
          bytes(p.bw_in_bytes),
          bytes(p.bw_out_bytes),
        ]),
      ),
    )
    io().err(
      `${peers.length} peers · IN/OUT: Kubo's latest count for each peer (since Kubo first saw it), not per session\n`,
    )
  }
  return current || ended.parts > 0 ? 0 : 1
}
