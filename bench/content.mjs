// The content index's first fill, measured against its floor: on a real repository of N pins
// (bench/make-repo.mjs), the time to examine every pin as the content collector does
// (examineCids: dag stat in batches; each root block from Kubo's flatfs files where the
// repository keeps them there, as the manager does by default, else through the RPC API: the raw
// roots' bytes in few `cat` calls, every other root's block; MIME types; batches at once),
// against `dag stat --offline` alone over the same roots in the same batches of 256, one call at
// a time (what any size index must ask Kubo), and in batches of 64; the floor is the faster of
// the two. On a flatfs repository the examination through the RPC API alone is timed too
// (content.block_files false). All in one run, against one Kubo, alternated chunk by chunk
// (4,096 roots) so that each sees the same cache.
//
// Usage: npm run build && node bench/content.mjs --pins 100000[,1000000] [--roots raw|dag-pb]
//   [--datastore pebbleds|flatfs] [--sample <roots>]
// --roots and --datastore pick the repository (make-repo.mjs; flatfs is what `ipfs init` makes
// by default); --sample examines that many roots spread over the pinset.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BATCH, examineCids } from '../dist/src/content/examine.js'
import { parseApiMultiaddr } from '../dist/src/kubo/address.js'
import { resolveKuboBinary } from '../dist/src/kubo/binary.js'
import { openBlockFiles } from '../dist/src/kubo/flatfs.js'
import { KuboRpc } from '../dist/src/kubo/rpc.js'
import { makeRepo, startBenchKubo } from './make-repo.mjs'

const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '100000' },
    roots: { type: 'string', default: 'raw' },
    datastore: { type: 'string', default: 'pebbleds' },
    sample: { type: 'string' },
  },
})
const cacheDir = join(
  process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit'),
  'bench',
)
const kubo = await resolveKuboBinary()
const CHUNK = 4096

async function measure(pins) {
  const repo = await makeRepo({
    pins,
    roots: values.roots,
    datastore: values.datastore,
    dir: cacheDir,
    bin: kubo.path,
  })
  const { rpc, stop, ipfsPath } = await startBenchKubo(repo, kubo.path, {
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
    const opened = await openBlockFiles(ipfsPath, (await rpc.id()).id)
    const blocks = 'read' in opened ? opened : null
    if (!blocks) process.stderr.write(`bench: root blocks through the RPC API: ${opened.reason}\n`)
    const ms = { floor: 0, floor64: 0, ours: 0, rpc: 0 }
    let rows = 0
    const statIn = async (chunk, size) => {
      for (let i = 0; i < chunk.length; i += size)
        await rpc.dagStat(chunk.slice(i, i + size), { offline: true, signal, timeoutMs: 120_000 })
    }
    const run = {
      floor: (chunk) => statIn(chunk, BATCH),
      floor64: (chunk) => statIn(chunk, 64),
      ours: async (chunk) => {
        rows += (await examineCids(rpc, chunk, { signal, dagTimeoutMs: 120_000, blocks })).length
      },
      rpc: async (chunk) => {
        await examineCids(rpc, chunk, { signal, dagTimeoutMs: 120_000 })
      },
    }
    for (let i = 0; i < chosen.length; i += CHUNK) {
      const chunk = chosen.slice(i, i + CHUNK)
      // A different one goes first each chunk, so that none always meets a warm cache.
      const order = blocks ? ['floor', 'floor64', 'ours', 'rpc'] : ['floor', 'floor64', 'ours']
      for (let k = 0; k < (i / CHUNK) % order.length; k++) order.push(order.shift())
      for (const which of order) {
        const t0 = performance.now()
        await run[which](chunk)
        ms[which] += performance.now() - t0
      }
      if ((i / CHUNK) % 25 === 24)
        process.stderr.write(`bench: ${i + chunk.length} of ${chosen.length} roots\n`)
    }
    return {
      pins: roots.length,
      examined: rows,
      floorMs: ms.floor,
      floor64Ms: ms.floor64,
      oursMs: ms.ours,
      rpcMs: blocks ? ms.rpc : null,
    }
  } finally {
    await stop()
  }
}

const lines = [
  `Command: \`node bench/content.mjs --pins ${values.pins} --roots ${values.roots} --datastore ${values.datastore}${values.sample ? ` --sample ${values.sample}` : ''}\` (Kubo ${kubo.version}, ${new Date().toISOString().slice(0, 10)})`,
  '',
  `| pins | roots | datastore | examined | \`dag stat\`, batches of 64 | \`dag stat\`, batches of ${BATCH} | ipfs-kit examination | per pin | rate | ratio to the faster \`dag stat\` (the floor) | target | through the RPC API only: ratio |`,
  '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
]
for (const n of values.pins.split(',').map(Number)) {
  const r = await measure(n)
  const floor = Math.min(r.floorMs, r.floor64Ms)
  const ratio = r.oursMs / floor
  const rpcOnly = r.rpcMs === null ? '-' : `${(r.rpcMs / floor).toFixed(2)}x`
  lines.push(
    `| ${r.pins.toLocaleString('en')} | ${values.roots} | ${values.datastore} | ${r.examined.toLocaleString('en')} | ${(r.floor64Ms / 1000).toFixed(1)} s | ${(r.floorMs / 1000).toFixed(1)} s | ${(r.oursMs / 1000).toFixed(1)} s | ${((r.oursMs / r.examined) * 1000).toFixed(0)} µs | ${Math.round((r.examined / r.oursMs) * 1000).toLocaleString('en')}/s | ${ratio.toFixed(2)}x | ≤ 1.5x: ${ratio <= 1.5 ? 'met' : 'NOT met'} | ${rpcOnly} |`,
  )
  process.stderr.write(`${lines.at(-1)}\n`)
}
process.stdout.write(`${lines.join('\n')}\n`)
