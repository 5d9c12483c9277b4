// `ipfs-kit du <cid>`: what one CID is and how big its DAG is, from content.parquet when the
// daemon has examined it, else asked of Kubo (offline: nothing is fetched).
import { UsageError } from '../errors.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import { humanBytes } from './format.js'
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'du',
  summary: 'the size, kind and type of one CID',
  subcommands: {
    '': {
      usage: 'du <cid> [--json]',
      summary:
        "the DAG's size and blocks (as `ipfs dag stat --offline` counts them), kind, file size and MIME type; from the index when known",
      options: [
        '--json            {"source","cid","size","blocks","codec","kind","file_size","mime","complete","examined_at","problem"}',
      ],
      async run(args) {
        const { values, positionals } = parseFlags('du', args, JSON_FLAG, { min: 1, max: 1 })
        const { parseUserCid } = await import('../pins/cid.js')
        const { cid, spellings } = await parseUserCid(positionals[0] as string)
        if (spellings.length === 0) throw new UsageError('du: no CID')
        const [{ ipfsKitPath, ipfsRepoPath }, { readRepoConfig }, { contentForPins, openContentSource }] =
          await Promise.all([
            import('../config/paths.js'),
            import('../kubo/repo.js'),
            import('../pins/content-view.js'),
          ])
        const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
        const source = await openContentSource(ipfsKitPath(), repo?.peerId ?? null)
        let row = null
        let from: 'index' | 'api' = 'index'
        try {
          if (source.file) {
            const found = await contentForPins(
              source,
              spellings.map((cid) => ({
                cid,
                type: 'recursive' as const,
                name: null,
                first_seen: null,
                first_seen_exact: null,
              })),
              true,
            )
            row = spellings.map((s) => found.get(s)).find((r) => r !== undefined) ?? null
          }
        } finally {
          await source.close()
        }
        if (!row) {
          from = 'api'
          process.stderr.write(
            `ipfs-kit: ${source.problem ?? 'this CID is not in content.parquet (not pinned, or not examined yet)'}; asking Kubo\n`,
          )
          const [{ loadConfig }, { connectKubo }, { examineCids }] = await Promise.all([
            import('../config/config.js'),
            import('../kubo/connect.js'),
            import('../content/examine.js'),
          ])
          const config = await loadConfig()
          const rpc = await connectKubo(config, ipfsRepoPath())
          const timeoutS = Number(config.settings['content.dag_timeout_s'].value)
          ;[row] = await examineCids(rpc, [cid], {
            signal: new AbortController().signal,
            dagTimeoutMs: timeoutS * 1000,
          })
        }
        if (!row) return 1
        const out = {
          source: from,
          cid: row.cid,
          size: row.dag_size_bytes,
          blocks: row.blocks,
          codec: row.codec,
          kind: row.kind,
          file_size: row.file_size_bytes,
          mime: row.mime,
          complete: row.complete,
          examined_at: row.examined_at.toISOString(),
          problem: row.problem,
        }
        if (values.json) {
          process.stdout.write(`${JSON.stringify(out)}\n`)
          return 0
        }
        process.stdout.write(
          [
            `${out.cid}`,
            `  size:      ${out.size === null ? 'unknown' : `${humanBytes(out.size)} (${out.size} bytes, ${out.blocks} blocks)`}`,
            `  kind:      ${out.kind ?? 'unknown'} (${out.codec})${out.file_size !== null ? `, file of ${humanBytes(out.file_size)}` : ''}${out.mime ? `, ${out.mime}` : ''}`,
            `  complete:  ${out.complete === null ? 'unknown' : out.complete ? 'every block is local' : 'NO: some blocks are not on this node'}`,
            ...(out.problem ? [`  note:      ${out.problem}`] : []),
            `  ${from === 'index' ? `from the index, examined ${out.examined_at}` : "asked of Kubo's RPC API just now"}`,
            '',
          ].join('\n'),
        )
        return 0
      },
    },
  },
}
export default group
