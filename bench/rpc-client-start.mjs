// Measures what the choice of Kubo RPC client costs a CLI process: whole-process wall time of
// `node -e 0`, of importing our client (src/kubo/rpc.ts, on node:http), and of importing the
// official kubo-rpc-client and creating a client, as medians over many interleaved runs in one
// go (the machine is shared and noisy: only ratios within one run are compared).
//
// Usage: node bench/rpc-client-start.mjs [--runs 30] [--kubo-rpc-client <folder holding node_modules/kubo-rpc-client>]
// Without --kubo-rpc-client that row is skipped (it is not a dependency of this project).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '30' }, 'kubo-rpc-client': { type: 'string' } },
})
const runs = Number(values.runs)
const root = fileURLToPath(new URL('..', import.meta.url))
const ours = pathToFileURL(join(root, 'dist/src/kubo/rpc.js')).href

const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  {
    name: 'import our KuboRpc (node:http) + new client',
    args: [
      '--input-type=module',
      '-e',
      `const { KuboRpc } = await import(${JSON.stringify(ours)}); new KuboRpc({ address: { kind: 'tcp', host: '127.0.0.1', port: 5001, multiaddr: '' } })`,
    ],
  },
]
if (values['kubo-rpc-client']) {
  const entry = join(values['kubo-rpc-client'], 'node_modules/kubo-rpc-client/dist/src/index.js')
  if (!existsSync(entry)) throw new Error(`no kubo-rpc-client at ${entry}`)
  cases.push({
    name: 'import kubo-rpc-client + create()',
    args: [
      '--input-type=module',
      '-e',
      `const { create } = await import(${JSON.stringify(pathToFileURL(entry).href)}); create({ url: 'http://127.0.0.1:5001' })`,
    ],
  })
}

const times = cases.map(() => [])
for (let i = 0; i < runs; i++) {
  // Interleave the cases so that a noisy moment hits them all alike.
  cases.forEach((c, j) => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, c.args, { stdio: ['ignore', 'ignore', 'pipe'] })
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`${c.name} failed: ${r.stderr}`)
    times[j].push(ms)
  })
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const base = median(times[0])
console.log(`| case | median ms (${runs} runs) | vs node -e 0 |`)
console.log('|---|---:|---:|')
cases.forEach((c, j) => {
  const m = median(times[j])
  console.log(`| ${c.name} | ${m.toFixed(1)} | ${(m / base).toFixed(2)}x |`)
})
