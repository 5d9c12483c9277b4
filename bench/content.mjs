// The content index's first fill, measured against its floor: on a real repository of N pins
// (bench/make-repo.mjs), the time to examine every pin as the content collector does (dag stat
// in batches of 64, the root block of each, the first bytes of files), against `dag stat
// --offline` alone over the same roots in the same batches (what any size index must ask Kubo).
// Both in one run, against one Kubo, alternated batch by batch so that both see the same cache.
//
// Usage: npm run build && node bench/content.mjs --pins 100000[,1000000] [--sample <roots>]
// --sample examines that many roots spread over the pinset (a full fill at a million takes long).
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { examineCids } from '../dist/src/content/examine.js'
import { parseApiMultiaddr } from '../dist/src/kubo/address.js'
import { resolveKuboBinary } from '../dist/src/kubo/binary.js'
import { KuboRpc } from '../dist/src/kubo/rpc.js'
import { makeRepo, startBenchKubo } from './make-repo.mjs'

const { values } = parseArgs({
  options: { pins: { type: 'string', default: '100000' }, sample: { type: 'string' } },
})
const cacheDir = join(
  process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'),
  'bench',
)
const kubo = await resolveKuboBinary()
const BATCH = 64

async function measure(pins) {
  const repo = await makeRepo({ pins, dir: cacheDir, bin: kubo.path })
  const { rpc, stop } = await startBenchKubo(repo, kubo.path, {
    KuboRpc,
    parseApiMultiaddr,
    rpcOptions: { timeoutMs: 120_000, keepAlive: process.env.BENCH_KEEPALIVE !== '0' },
  })
  try {
    const roots = []
    for (const type of ['recursive', 'direct'])
      for await (const p of rpc.pinLs({ type, names: false })) roots.push(p.cid)
    roots.sort()
    const sample = values.sample ? Number(values.sample) : roots.length
    const step = roots.length / sample
    const chosen = Array.from(
      { length: Math.min(sample, roots.length) },
      (_, i) => roots[Math.floor(i * step)],
    )
    const signal = new AbortController().signal
    let floorMs = 0
    let oursMs = 0
    let rows = 0
    for (let i = 0; i < chosen.length; i += BATCH) {
      const batch = chosen.slice(i, i + BATCH)
      // Alternate which goes first, so neither always meets a warm cache.
      const order = (i / BATCH) % 2 === 0 ? ['floor', 'ours'] : ['ours', 'floor']
      for (const which of order) {
        const t0 = performance.now()
        if (which === 'floor') await rpc.dagStat(batch, { offline: true, signal, timeoutMs: 120_000 })
        else rows += (await examineCids(rpc, batch, { signal, dagTimeoutMs: 120_000 })).length
        if (which === 'floor') floorMs += performance.now() - t0
        else oursMs += performance.now() - t0
      }
    }
    return { pins: roots.length, examined: rows, floorMs, oursMs }
  } finally {
    await stop()
  }
}

const lines = [
  `Command: \`node bench/content.mjs --pins ${values.pins}${values.sample ? ` --sample ${values.sample}` : ''}\` (Kubo ${kubo.version}, ${new Date().toISOString().slice(0, 10)})`,
  '',
  '| pins | examined | floor: `dag stat --offline`, batches of 64 | ipfs-kit examination | per pin | rate | ratio | target |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
]
for (const n of values.pins.split(',').map(Number)) {
  const r = await measure(n)
  const ratio = r.oursMs / r.floorMs
  lines.push(
    `| ${r.pins.toLocaleString('en')} | ${r.examined.toLocaleString('en')} | ${(r.floorMs / 1000).toFixed(1)} s | ${(r.oursMs / 1000).toFixed(1)} s | ${((r.oursMs / r.examined) * 1000).toFixed(0)} µs | ${Math.round((r.examined / r.oursMs) * 1000).toLocaleString('en')}/s | ${ratio.toFixed(2)}x | ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'NOT met'} |`,
  )
  process.stderr.write(`${lines.at(-1)}\n`)
}
process.stdout.write(`${lines.join('\n')}\n`)
