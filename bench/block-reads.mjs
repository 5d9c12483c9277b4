// What one root read costs next to `dag stat`: on the 100,000-pin repository of make-repo.mjs,
// 4,000 roots read with `block/get` one at a time and four and sixteen at a time, on a new
// connection per call and on kept-alive connections; `dag stat --offline` in batches of 64 and
// 256; the same raw roots' bytes by `cat` of 256 roots a call; and the MIME check of a block.
// It explains the content fill's ratio to its floor (docs/BENCHMARKS.md).
//
// Usage: npm run build && node bench/block-reads.mjs [--pins 100000]
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CID } from 'multiformats/cid'
import { detectMime } from '../dist/src/content/examine.js'
import { parseApiMultiaddr } from '../dist/src/kubo/address.js'
import { resolveKuboBinary } from '../dist/src/kubo/binary.js'
import { KuboRpc } from '../dist/src/kubo/rpc.js'
import { makeRepo, startBenchKubo } from './make-repo.mjs'

const { values } = parseArgs({ options: { pins: { type: 'string', default: '100000' } } })
const kubo = await resolveKuboBinary()
const cacheDir = join(
  process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'),
  'bench',
)
const repo = await makeRepo({ pins: Number(values.pins), dir: cacheDir, bin: kubo.path })
const { rpc, stop } = await startBenchKubo(repo, kubo.path, { KuboRpc, parseApiMultiaddr })
try {
  const cids = []
  for await (const p of rpc.pinLs({ type: 'recursive', names: false })) {
    // The raw roots (the repository's pins; not the empty directory Kubo pins at init).
    if (CID.parse(p.cid).code !== 0x55) continue
    cids.push(p.cid)
    if (cids.length >= 4000) break
  }
  const rows = []
  for (const keepAlive of [false, true]) {
    for (const concurrency of [1, 4, 16]) {
      const client = new KuboRpc({ address: rpc.address, keepAlive })
      const left = cids.slice()
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (left.length > 0) await client.blockGet(left.pop(), { offline: true })
        }),
      )
      rows.push([
        `block/get, ${concurrency} at a time, ${keepAlive ? 'kept-alive' : 'new'} connections`,
        (performance.now() - t0) / cids.length,
      ])
    }
  }
  let t0 = performance.now()
  for (let i = 0; i < cids.length; i += 64) await rpc.dagStat(cids.slice(i, i + 64))
  rows.push(['dag stat --offline, 64 roots a call', (performance.now() - t0) / cids.length])
  t0 = performance.now()
  for (let i = 0; i < cids.length; i += 256) await rpc.dagStat(cids.slice(i, i + 256))
  rows.push(['dag stat --offline, 256 roots a call', (performance.now() - t0) / cids.length])
  t0 = performance.now()
  for (let i = 0; i < cids.length; i += 256) await rpc.catMany(cids.slice(i, i + 256), 1 << 26)
  rows.push(['cat of 256 raw roots a call (their whole bytes)', (performance.now() - t0) / cids.length])
  const block = await rpc.blockGet(cids[0])
  // The detector is loaded by its first call (a one-off import) and compiled over the first
  // thousands: neither is counted per block.
  for (let i = 0; i < 5000; i++) await detectMime(block, true)
  t0 = performance.now()
  for (let i = 0; i < 20_000; i++) await detectMime(block, true)
  rows.push(['detectMime of one block (file-type, text check)', (performance.now() - t0) / 20_000])
  const out = [
    `Command: \`node bench/block-reads.mjs --pins ${values.pins}\` (${cids.length} roots)`,
    '',
    '| what | per root |',
    '| --- | ---: |',
  ]
  for (const [what, ms] of rows) out.push(`| ${what} | ${Math.round(ms * 1000)} µs |`)
  process.stdout.write(`${out.join('\n')}\n`)
} finally {
  await stop()
}
