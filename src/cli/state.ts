// `ipfs-kit state [area]`: the latest snapshot of the node's system, network, storage or files
// state, as the manager indexed it. A value Kubo or the system did not report shows as null,
// with the reason.
import { UsageError } from '../errors.js'
import type { StateSnapshot } from '../store/state.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

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

const group: CommandGroup = {
  name: 'state',
  summary: "the node's state as last indexed",
  subcommands: {
    '': {
      usage: 'state [system|network|storage|files] [--json]',
      summary: 'the latest snapshot of one area, or all of them; exit 1 when one cannot be shown',
      options: ['--json            machine-readable output'],
      async run(args) {
        const { values, positionals } = parseFlags('state', args, JSON_FLAG, { max: 1 })
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
        for (const r of results)
          if (r.problem) process.stderr.write(`ipfs-kit: state ${r.area}: ${r.problem}\n`)
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
          process.stdout.write(`${JSON.stringify(asked ? out[asked] : out, null, 2)}\n`)
        } else {
          process.stdout.write(results.map(renderArea).join('\n'))
        }
        return results.every((r) => r.snapshot) ? 0 : 1
      },
    },
  },
}
export default group
