// Compares Parquet libraries for ipfs-kit's two jobs, in one run on this machine:
//  - the CLI: a whole `node` process that opens pins.parquet and finds one CID (or the first
//    10 rows), as hyparquet does it (footer + the row groups it needs) and as DuckDB does it;
//  - the manager: writing N pins (sorted, 50,000-row groups, exact statistics).
// Usage: node bench/parquet-libs.mjs [--pins 100000] [--runs 15]
// Needs the dev dependency @duckdb/node-api.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

const { values } = parseArgs({
  options: { pins: { type: 'string', default: '100000' }, runs: { type: 'string', default: '15' } },
})
const n = Number(values.pins)
const runs = Number(values.runs)
const dir = mkdtempSync(join(tmpdir(), 'ipfs-kit-bench-'))

const cids = []
for (let i = 0; i < n; i++)
  cids.push(CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`pin ${i}`))).toString())
cids.sort()
const columns = (c) => [
  { name: 'cid', data: c, type: 'STRING' },
  { name: 'type', data: c.map(() => 'recursive'), type: 'STRING' },
  { name: 'name', data: c.map(() => null), type: 'STRING', nullable: true },
  { name: 'indexed_at', data: c.map(() => Date.now()), type: 'TIMESTAMP' },
]

// Writing.
const hyPath = join(dir, 'hyparquet.parquet')
let t0 = performance.now()
writeFileSync(
  hyPath,
  new Uint8Array(
    parquetWriteBuffer({
      columnData: columns(cids),
      rowGroupSize: 50_000,
      statisticsTruncateLength: Number.POSITIVE_INFINITY,
    }),
  ),
)
const hyWriteMs = performance.now() - t0
const { DuckDBInstance } = await import('@duckdb/node-api')
const db = await DuckDBInstance.create(':memory:')
const conn = await db.connect()
const duckPath = join(dir, 'duckdb.parquet')
t0 = performance.now()
await conn.run(`CREATE TABLE pins AS SELECT * FROM read_parquet('${hyPath}')`)
const loadMs = performance.now() - t0
t0 = performance.now()
await conn.run(
  `COPY (SELECT * FROM pins ORDER BY cid) TO '${duckPath}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`,
)
const duckWriteMs = performance.now() - t0
conn.closeSync()

// Reading, as whole processes.
const target = cids[Math.floor(n / 2)]
// Opens the file through one descriptor and reads its footer, as the CLI does.
const hyparquetOpen = `
  const { parquetMetadataAsync, parquetReadObjects } = await import('hyparquet')
  const { open } = await import('node:fs/promises')
  const fh = await open(${JSON.stringify(hyPath)})
  const size = (await fh.stat()).size
  const file = { byteLength: size, async slice(s, e = size) { const b = new Uint8Array(e - s); await fh.read(b, 0, b.length, s); return b.buffer } }
  const metadata = await parquetMetadataAsync(file)
`
const hyparquetCid = `${hyparquetOpen}
  let start = 0, found = 0
  for (const g of metadata.row_groups) {
    const rows = Number(g.num_rows); const st = g.columns[0].meta_data.statistics
    if (${JSON.stringify(target)} >= st.min_value && ${JSON.stringify(target)} <= st.max_value) {
      const r = await parquetReadObjects({ file, metadata, columns: ['cid','type','name'], rowStart: start, rowEnd: start + rows })
      found += r.filter((x) => x.cid === ${JSON.stringify(target)}).length
    }
    start += rows
  }
  if (found !== 1) throw new Error('not found')`
const hyparquetFirst10 = `${hyparquetOpen}
  const r = await parquetReadObjects({ file, metadata, columns: ['cid','type','name'], rowStart: 0, rowEnd: 10 })
  if (r.length !== 10) throw new Error('short')`
const duck = (sql) => `
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  const r = await c.runAndReadAll(${JSON.stringify(sql)})
  if (r.getRows().length === 0) throw new Error('none')`
const cases = [
  { name: 'node -e 0', code: '0' },
  { name: 'hyparquet: find one CID', code: hyparquetCid },
  {
    name: 'DuckDB: find one CID',
    code: duck(`SELECT cid, type, name FROM read_parquet('${duckPath}') WHERE cid = '${target}'`),
  },
  { name: 'hyparquet: first 10 rows', code: hyparquetFirst10 },
  {
    name: 'DuckDB: first 10 rows',
    code: duck(`SELECT cid, type, name FROM read_parquet('${duckPath}') LIMIT 10`),
  },
]
const times = cases.map(() => [])
for (let i = 0; i < runs; i++) {
  cases.forEach((c, j) => {
    const t = performance.now()
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', c.code], {
      cwd: new URL('..', import.meta.url).pathname,
    })
    if (r.status !== 0) throw new Error(`${c.name}: ${r.stderr}`)
    times[j].push(performance.now() - t)
  })
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(times[0])
console.log(
  `Pins: ${n}; file sizes: hyparquet ${statSync(hyPath).size} B, DuckDB ${statSync(duckPath).size} B`,
)
console.log(
  `Write ${n} pins: hyparquet-writer ${hyWriteMs.toFixed(0)} ms; DuckDB COPY ${duckWriteMs.toFixed(0)} ms (+ ${loadMs.toFixed(0)} ms to load the rows into DuckDB)`,
)
console.log(`\n| whole process (median of ${runs}) | ms | vs node -e 0 |\n|---|---:|---:|`)
for (const [j, c] of cases.entries()) {
  console.log(`| ${c.name} | ${median(times[j]).toFixed(1)} | ${(median(times[j]) / base).toFixed(2)}x |`)
}
