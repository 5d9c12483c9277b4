// `ipfs-kit sql "<query>"`: DuckDB over every index file, for questions the other commands do
// not ask. Each file first passes the same checks as for any reader (this node's, known schema,
// every checksum, valid CIDs); then the very bytes that were checked (read through the one
// descriptor they were checked through) are copied into a private temporary folder, and DuckDB
// reads those copies, so that a file the manager replaces meanwhile can never be read unchecked.
// A file that fails is left out, with its reason on stderr. The query can read those copies
// only, and write nothing. DuckDB is an optional dependency,
// loaded by this command only.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import { parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

/** The single-file views (name → file kind) and the day-log views. */
const FILE_VIEWS = [
  'pins',
  'content',
  'pin_requests',
  'system',
  'network',
  'storage',
  'files',
  'peers',
] as const
const VIEW_NAME: Record<string, string> = {
  pins: 'pins',
  content: 'content',
  pin_requests: 'pin_requests',
  system: 'system_state',
  network: 'network_state',
  storage: 'storage_state',
  files: 'files_state',
  peers: 'peers',
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const group: CommandGroup = {
  name: 'sql',
  summary: 'DuckDB SQL over the index files',
  subcommands: {
    '': {
      usage: 'sql "<query>" [--json | --csv]',
      summary:
        'runs a query in DuckDB over views of the index files, each checked first like for any reader (needs the optional package @duckdb/node-api)',
      options: [
        'views:  pins, content, pin_requests, system_state, network_state, storage_state, files_state, peers, cluster_pins (cluster.enabled)',
        '        (one file each; pin_requests: the requests of the Pinning Service API);',
        '        history_system, history_network, history_storage, history_files, pin_events, peer_sessions',
        '        (the day logs, with a `day` column from their folders)',
        '--json            {"columns":[...],"rows":[{...}],"left_out":[{"view","reason"}]}',
        '--csv             a header line, then one line per row',
      ],
      async run(args) {
        const { values, positionals } = parseFlags(
          'sql',
          args,
          { json: { type: 'boolean' }, csv: { type: 'boolean' } },
          { min: 1, max: 1 },
        )
        if (values.json && values.csv) throw new UsageError('sql: give --json or --csv, not both')
        const query = (positionals[0] as string).trim()
        if (query === '') throw new UsageError('sql: the query is empty')
        let duckdb: typeof import('@duckdb/node-api')
        try {
          // require, not import(): the one-file CLI runs from V8's code cache, which has no
          // loader for a dynamic import of a package outside the bundle.
          duckdb = createRequire(import.meta.url)('@duckdb/node-api')
        } catch (err) {
          process.stderr.write(
            `ipfs-kit: sql needs DuckDB's Node package, which is not installed (${(err as Error).message.split('\n')[0]})\n  install it with: npm install @duckdb/node-api\n`,
          )
          return 1
        }
        const [{ ipfsKitPath, ipfsRepoPath }, { readRepoConfig }, layout, reader, integrity, dayLog, errors] =
          await Promise.all([
            import('../config/paths.js'),
            import('../kubo/repo.js'),
            import('../store/layout.js'),
            import('../store/reader.js'),
            import('../store/integrity.js'),
            import('../store/day-log.js'),
            import('../errors.js'),
          ])
        const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
        if (!repo) {
          process.stderr.write(
            `ipfs-kit: sql: no Kubo repository at ${ipfsRepoPath()} to check the index files against\n`,
          )
          return 1
        }
        const kitPath = ipfsKitPath()
        const dir = await mkdtemp(join(tmpdir(), 'ipfs-kit-sql-'))
        const leftOut: Array<{ view: string; reason: string }> = []
        const views: string[] = []
        /** Checks one file and copies the bytes it checked; false (with the reason kept) when it fails. */
        const take = async (
          path: string,
          kind: import('../store/layout.js').FileKind,
          to: string,
          view: string,
          more?: (file: import('../store/reader.js').OpenIndexFile) => Promise<unknown>,
          peerId = repo.peerId,
        ) => {
          let file: Awaited<ReturnType<typeof reader.openIndexFile>> | null = null
          try {
            file = await reader.openIndexFile(path, kind, peerId)
            await integrity.verifyAllGroups(file.buffer, file.metadata)
            await file.buffer.verifyPageIndexes()
            await reader.verifyCidColumns(file, kind)
            await more?.(file)
            await writeFile(to, new Uint8Array(await file.buffer.slice(0, file.size)), { mode: 0o600 })
            return true
          } catch (err) {
            if (!(err instanceof errors.IndexRejectedError)) throw err
            if (!(err instanceof errors.IndexMissingError))
              leftOut.push({ view, reason: `${path} ${err.reason}` })
            return false
          } finally {
            await file?.close()
          }
        }
        const quote = (p: string) => `'${p.replaceAll("'", "''")}'`
        const statements: string[] = []
        try {
          for (const kind of FILE_VIEWS) {
            const view = VIEW_NAME[kind] as string
            const path =
              kind === 'content'
                ? layout.contentPath(kitPath)
                : kind === 'pin_requests'
                  ? layout.pinRequestsPath(kitPath)
                  : layout.indexFilePath(kitPath, kind)
            const to = join(dir, `${view}.parquet`)
            if (await take(path, kind, to, view)) {
              // first_seen_exact and complete are stored as 0/1 since pins schema version 6 and
              // content version 2 (pins-format.ts, content-format.ts): shown as the booleans they
              // are, whichever version the file is.
              const columns =
                kind === 'pins'
                  ? '* REPLACE (CAST(first_seen_exact AS BOOLEAN) AS first_seen_exact)'
                  : kind === 'content'
                    ? '* REPLACE (CAST(complete AS BOOLEAN) AS complete)'
                    : '*'
              statements.push(`CREATE VIEW ${view} AS SELECT ${columns} FROM read_parquet(${quote(to)})`)
              views.push(view)
            }
          }
          // The cluster pinset is checked against the Cluster peer's identity, not Kubo's.
          const { clusterPeerIdentity } = await import('../store/cluster-pins.js')
          const { clusterPath } = await import('../config/paths.js')
          const { managerFiles } = await import('../manager/files.js')
          const clusterPeer = clusterPeerIdentity(clusterPath(), managerFiles(kitPath).runDir)
          const clusterTo = join(dir, 'cluster_pins.parquet')
          if (
            clusterPeer &&
            (await take(
              layout.clusterPinsPath(kitPath),
              'cluster_pins',
              clusterTo,
              'cluster_pins',
              undefined,
              clusterPeer,
            ))
          ) {
            statements.push(`CREATE VIEW cluster_pins AS SELECT * FROM read_parquet(${quote(clusterTo)})`)
            views.push('cluster_pins')
          }
          for (const kind of layout.DAY_LOG_KINDS) {
            let copied = 0
            for (const part of await dayLog.listDayLogParts(kitPath, kind)) {
              const folder = join(dir, kind, `day=${part.day}`)
              await mkdir(folder, { recursive: true })
              // The day-log checks too: its day is its folder's, its rows of that day and in order.
              const more = (file: import('../store/reader.js').OpenIndexFile) =>
                dayLog.checkDayLogPart(file, part, kind)
              if (await take(part.path, kind, join(folder, `part-${part.part}.parquet`), kind, more)) copied++
            }
            if (copied > 0) {
              statements.push(
                `CREATE VIEW ${kind} AS SELECT * FROM read_parquet(${quote(join(dir, kind, '*', '*.parquet'))}, hive_partitioning = true)`,
              )
              views.push(kind)
            }
          }
          for (const l of leftOut) process.stderr.write(`ipfs-kit: sql: ${l.view}: left out: ${l.reason}\n`)
          const db = await duckdb.DuckDBInstance.create(':memory:')
          const conn = await db.connect()
          try {
            for (const s of statements) await conn.run(s)
            // Read-only and confined: the query reads the checked copies and nothing else, and
            // writes no file (COPY ... TO, ATTACH and other files are refused by DuckDB).
            await conn.run(`SET allowed_directories = [${quote(`${dir}/`)}]`)
            await conn.run('SET enable_external_access = false')
            let result: Awaited<ReturnType<typeof conn.runAndReadAll>>
            try {
              result = await conn.runAndReadAll(query)
            } catch (err) {
              throw new UsageError(`sql: ${(err as Error).message.split('\n')[0]}`, {
                hint: `views: ${views.join(', ') || 'none (no index files yet: `ipfs-kit daemon start`)'}`,
              })
            }
            const columns = result.columnNames()
            const rows = result.getRowObjectsJson() as Array<Record<string, unknown>>
            if (values.json) process.stdout.write(`${JSON.stringify({ columns, rows, left_out: leftOut })}\n`)
            else if (values.csv) {
              process.stdout.write(`${columns.map(csvCell).join(',')}\n`)
              for (const r of rows) process.stdout.write(`${columns.map((c) => csvCell(r[c])).join(',')}\n`)
            } else {
              const cells = [
                columns,
                ...rows.map((r) =>
                  columns.map((c) => (r[c] === null ? 'NULL' : csvCell(r[c]).replace(/^"|"$/g, ''))),
                ),
              ]
              const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] as string).length)))
              for (const row of cells)
                process.stdout.write(
                  `${row
                    .map((v, i) => v.padEnd(widths[i] as number))
                    .join('  ')
                    .trimEnd()}\n`,
                )
              process.stderr.write(`${rows.length} rows\n`)
            }
          } finally {
            conn.closeSync()
          }
          return 0
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      },
    },
  },
}
export default group
