// What a query from the index costs a CLI process, without Kubo: a pins.parquet of N synthetic
// pins written by the manager's own writer (and a Kubo repository folder holding only its
// config, for the peer ID), then `node -e 0`, `ipfs-kit --version`, `pin list --cid <middle>`,
// `pin list --limit 10` and `daemon status` (no manager: from the files), interleaved, medians
// of --runs. With --before <path to another checkout's bin/ipfs-kit.cjs>, that build's commands
// run in the same loop, to compare two builds in one run. Usage:
//   npm run build && node bench/cli-start.mjs --pins 1000000 [--runs 21] [--before ../old/bin/ipfs-kit.cjs]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: {
    pins: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '21' },
    before: { type: 'string' },
    dir: { type: 'string', default: '/tmp/ipfs-kit-bench-cli-start' },
  },
})
const n = Number(values.pins)
const kit = join(values.dir, `kit-${n}`)
const repo = join(values.dir, `repo-${n}`)
const midFile = join(values.dir, `middle-${n}.txt`)
const peerId = '12D3KooWJnvjyXwnEmRXPPEzmfTjzhbz2UuKyQJMcMpdSCwJuM9W'

if (!existsSync(midFile)) {
  process.stderr.write(`bench: writing ${n} synthetic pins...\n`)
  const { writePinsFile } = await import(join(root, 'dist/test/helpers/index-files.js'))
  const { indexFilePath, PINS_META } = await import(join(root, 'dist/src/store/layout.js'))
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const cids = []
  for (let i = 0; i < n; i++)
    cids.push(CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`pin ${i}`))).toString())
  cids.sort()
  mkdirSync(repo, { recursive: true })
  writeFileSync(join(repo, 'config'), JSON.stringify({ Identity: { PeerID: peerId } }))
  mkdirSync(join(kit, 'pin_metadata', 'parquet_storage'), { recursive: true })
  await writePinsFile(indexFilePath(kit, 'pins'), {
    peerId,
    cids,
    extra: { [PINS_META.pinsetSha256]: 'synthetic' },
  })
  writeFileSync(midFile, cids[n >> 1])
}
const middle = readFileSync(midFile, 'utf8')
const env = { ...process.env, IPFS_KIT_PATH: kit, IPFS_PATH: repo }
const builds = { ...(values.before ? { before: values.before } : {}), this: join(root, 'bin/ipfs-kit.cjs') }
const commands = {
  '--version': ['--version'],
  'pin list --cid <middle>': ['pin', 'list', '--cid', middle],
  'pin list --limit 10': ['pin', 'list', '--limit', '10'],
  'daemon status': ['daemon', 'status'],
}
const cases = { 'node -e 0': ['-e', '0'] }
for (const [b, bin] of Object.entries(builds))
  for (const [c, args] of Object.entries(commands)) cases[`${c} (${b})`] = [bin, ...args]
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let r = 0; r < Number(values.runs); r++) {
  for (const [k, args] of Object.entries(cases)) {
    const t0 = performance.now()
    spawnSync(process.execPath, args, { env })
    times[k].push(performance.now() - t0)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(times['node -e 0'])
process.stdout.write(
  `${n.toLocaleString('en')} pins, medians of ${values.runs} interleaved runs\n\n| command | ms | ratio to \`node -e 0\` |\n| --- | --: | --: |\n`,
)
for (const [k, xs] of Object.entries(times))
  process.stdout.write(`| \`${k}\` | ${median(xs).toFixed(0)} | ${(median(xs) / base).toFixed(2)}x |\n`)
