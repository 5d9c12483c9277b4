// The peers collector: every connected peer with what Kubo knows of it (address, direction,
// latency, agent, protocols, streams) into peers.parquet, and its bandwidth. Kubo reports a
// peer's bandwidth only one peer per call (`stats/bw?peer=`), so each cycle asks at most
// `bwPerCycle` peers, those whose figure is oldest first, and each row says when its figure was
// taken (bw_at). A connection (peer, address, direction) is dated by the first cycle that saw
// it; when a cycle no longer sees it, its session goes to the peer_sessions day log.
import { indexFilePath } from '../store/layout.js'
import { readStateFile, type StateRow } from '../store/state.js'
import { writeStateFile } from '../store/state-writer.js'
import type { DayLogWriter } from './day-log.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'
import { latencyMs } from './state.js'

export interface PeersCollectorOptions {
  kitPath: string
  writer: string
  /** The node runs offline (`daemon start --offline`): it has no peers, and swarm/peers refuses. */
  offline?: boolean
  /** At most this many `stats/bw?peer=` calls per cycle. */
  bwPerCycle: () => number
  /** Where ended sessions are kept (none: not kept). */
  sessions?: DayLogWriter
}

interface Bandwidth {
  in: number
  out: number
  rateIn: number
  rateOut: number
  at: Date
}

interface Session {
  peer: string
  addr: string
  direction: string | null
  agent: string | null
  connectedSince: Date
  lastSeen: Date
  bw: Bandwidth | null
}

const keyOf = (peer: string, addr: string, direction: string | null) => `${peer} ${addr} ${direction ?? ''}`

export function peersCollector(options: PeersCollectorOptions): Collector {
  const path = indexFilePath(options.kitPath, 'peers')
  let sessions: Map<string, Session> | null = null
  let sessionsOf: string | null = null

  /** The sessions of the last peers.parquet of this node (a manager restart keeps their dates and figures). */
  async function load(peerId: string): Promise<Map<string, Session>> {
    const out = new Map<string, Session>()
    try {
      const snap = await readStateFile(path, 'peers', peerId)
      for (const r of snap.rows) {
        if (
          typeof r.peer_id !== 'string' ||
          typeof r.addr !== 'string' ||
          typeof r.connected_since !== 'string'
        )
          continue
        const direction = typeof r.direction === 'string' ? r.direction : null
        const bw =
          typeof r.bw_at === 'string' &&
          typeof r.bw_in_bytes === 'number' &&
          typeof r.bw_out_bytes === 'number'
            ? {
                in: r.bw_in_bytes,
                out: r.bw_out_bytes,
                rateIn: Number(r.rate_in_bps ?? 0),
                rateOut: Number(r.rate_out_bps ?? 0),
                at: new Date(r.bw_at),
              }
            : null
        out.set(keyOf(r.peer_id, r.addr, direction), {
          peer: r.peer_id,
          addr: r.addr,
          direction,
          agent: typeof r.agent === 'string' ? r.agent : null,
          connectedSince: new Date(r.connected_since),
          lastSeen: new Date(typeof r.collected_at === 'string' ? r.collected_at : r.connected_since),
          bw,
        })
      }
    } catch {
      // No file, or one that cannot be trusted: every connection is new to this manager.
    }
    return out
  }

  return {
    name: 'peers',
    async run(ctx: CollectContext): Promise<CollectorOutcome> {
      if (!sessions || sessionsOf !== ctx.peerId) {
        sessions = await load(ctx.peerId)
        sessionsOf = ctx.peerId
      }
      const now = new Date()
      const listed = options.offline
        ? []
        : await ctx.rpc.swarmPeers({ identify: true, streams: true }, { signal: ctx.signal })
      const current = new Map<string, { peer: (typeof listed)[number]; session: Session }>()
      for (const p of listed) {
        const key = keyOf(p.peer, p.addr, p.direction)
        const session = sessions.get(key) ?? {
          peer: p.peer,
          addr: p.addr,
          direction: p.direction,
          agent: null,
          connectedSince: now,
          lastSeen: now,
          bw: null,
        }
        session.lastSeen = now
        session.agent = p.agent ?? session.agent
        current.set(key, { peer: p, session })
      }
      // The connections no cycle sees any more ended since the last one saw them.
      const ended: StateRow[] = []
      for (const [key, s] of sessions) {
        if (current.has(key)) continue
        ended.push({
          ended_at: now,
          peer_id: s.peer,
          addr: s.addr,
          direction: s.direction,
          agent: s.agent,
          connected_since: s.connectedSince,
          last_seen: s.lastSeen,
          bw_in_bytes: s.bw?.in ?? null,
          bw_out_bytes: s.bw?.out ?? null,
          bw_at: s.bw?.at ?? null,
        })
      }
      // Bandwidth for the peers whose figure is oldest (never taken first), within the budget.
      const byAge = [...current.values()].sort(
        (a, b) => (a.session.bw?.at.getTime() ?? -1) - (b.session.bw?.at.getTime() ?? -1),
      )
      const asked = new Set<string>()
      let bwFailure: string | null = null
      for (const { peer, session } of byAge.slice(0, Math.max(0, options.bwPerCycle()))) {
        if (ctx.signal.aborted) break
        // One peer's figure is for the peer, whatever connection it came over.
        if (asked.has(peer.peer)) continue
        asked.add(peer.peer)
        try {
          const bw = await ctx.rpc.statsBw({ peer: peer.peer }, { signal: ctx.signal })
          const figure = {
            in: bw.totalIn,
            out: bw.totalOut,
            rateIn: bw.rateIn,
            rateOut: bw.rateOut,
            at: new Date(),
          }
          for (const c of current.values()) if (c.peer.peer === peer.peer) c.session.bw = figure
          session.bw = figure
        } catch (err) {
          bwFailure = `stats/bw?peer= failed: ${err instanceof Error ? err.message : String(err)}`
        }
      }
      const reasons: Record<string, string> = options.offline
        ? { peer_id: 'offline: the node has no peers' }
        : {}
      const rows: StateRow[] = [...current.values()].map(({ peer, session }) => ({
        collected_at: now,
        peer_id: peer.peer,
        addr: peer.addr,
        direction: peer.direction,
        latency_ms: latencyMs(peer.latency),
        agent: session.agent,
        protocols: peer.protocols && peer.protocols.length > 0 ? peer.protocols.join(' ') : null,
        streams: peer.streams ?? null,
        bw_in_bytes: session.bw?.in ?? null,
        bw_out_bytes: session.bw?.out ?? null,
        rate_in_bps: session.bw?.rateIn ?? null,
        rate_out_bps: session.bw?.rateOut ?? null,
        bw_at: session.bw?.at ?? null,
        connected_since: session.connectedSince,
      }))
      if (rows.some((r) => r.bw_at === null))
        reasons.bw_in_bytes =
          bwFailure ??
          `not asked yet: Kubo reports one peer's bandwidth per call, and at most ${options.bwPerCycle()} peers are asked per cycle (bw_at says when each figure was taken)`
      for (const c of ['bw_out_bytes', 'rate_in_bps', 'rate_out_bps', 'bw_at'])
        if (reasons.bw_in_bytes) reasons[c] = reasons.bw_in_bytes
      if (rows.some((r) => r.agent === null)) reasons.agent = 'Kubo has not identified this peer (yet)'
      if (rows.some((r) => r.protocols === null))
        reasons.protocols = 'Kubo has not identified this peer (yet)'
      if (rows.some((r) => r.latency_ms === null))
        reasons.latency_ms = 'Kubo has no latency for this peer yet'
      if (rows.some((r) => r.direction === null)) reasons.direction = 'Kubo reported an unknown direction'
      if (rows.some((r) => r.streams === null)) reasons.streams = 'Kubo listed no streams for this peer'
      rows.sort((a, b) => ((a.peer_id as string) < (b.peer_id as string) ? -1 : 1))
      await writeStateFile(
        path,
        'peers',
        { writer: options.writer, peerId: ctx.peerId, kuboVersion: ctx.kuboVersion, generatedAt: now },
        rows,
        reasons,
      )
      sessions = new Map([...current].map(([k, c]) => [k, c.session]))
      if (options.sessions && ended.length > 0) await options.sessions.append(ctx, ended)
      if (options.sessions) await options.sessions.prune(ctx)
      return { wrote: true, rows: rows.length, detail: `${asked.size} bandwidth figures taken` }
    },
  }
}
