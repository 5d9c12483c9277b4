// Builds a real Kubo repository holding N pins, quickly, for the benchmarks: blocks imported
// as CAR files of 100,000 blocks each (`ipfs dag import`), then pinned with `ipfs pin add` in
// batches of 10,000: 99% recursive, 1% direct, and 100 named pins. Kubo's test profile (loopback, no bootstrap) plus the
// pebbleds datastore (a million flatfs files would make building, not querying, the cost), or
// with datastore 'flatfs' Kubo's default (a file per block, leveldb for the rest), in
// repo-<N>[-dag-pb]-flatfs.
// The repository is kept in the cache and reused for the same N.
//
// Every pin is one block: a raw block (CIDv1, what `ipfs add --cid-version 1` makes of a small
// file), or with roots 'dag-pb' a UnixFS file node holding its bytes (CIDv0, what plain
// `ipfs add` makes of one), in repo-<N>-dag-pb.
//
// Usage: node bench/make-repo.mjs --pins <N> [--roots raw|dag-pb] [--datastore pebbleds|flatfs]
//   [--dir <folder>] [--fresh]
// Prints the repository path. Needs `npm ci` (dev dependency @ipld/car) and a Kubo binary.
import { spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { CarWriter } from '@ipld/car/writer'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'

const RAW = 0x55
const PER_CAR = 100_000

/**
 * A copy of a built repository with `ipfs daemon --offline` running on it, for the benchmarks
 * that talk to Kubo directly: its RPC client (`rpcOptions` for KuboRpc), and stop() that ends
 * the daemon and removes the copy.
 */
export async function startBenchKubo(repo, bin, { KuboRpc, parseApiMultiaddr, rpcOptions = {} }) {
  const work = mkdtempSync('/tmp/ipfs-kit-bench-kubo-')
  const ipfsPath = join(work, 'ipfs')
  cpSync(repo, ipfsPath, { recursive: true })
  const daemon = spawn(bin, ['daemon', '--offline'], {
    env: { ...process.env, IPFS_PATH: ipfsPath },
    stdio: 'ignore',
  })
  const stop = async () => {
    daemon.kill('SIGTERM')
    await new Promise((r) => (daemon.exitCode === null ? daemon.once('exit', r) : r()))
    rmSync(work, { recursive: true, force: true })
  }
  for (let i = 0; i < 600; i++) {
    try {
      const rpc = new KuboRpc({
        address: parseApiMultiaddr(readFileSync(join(ipfsPath, 'api'), 'utf8')),
        ...rpcOptions,
      })
      await rpc.id()
      return { rpc, ipfsPath, stop }
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  await stop()
  throw new Error('Kubo did not answer within 60 s')
}

/**
 * A copy of a built repository for a manager to run on, in a new folder under /tmp: the copy
 * (ipfs), an ipfs-kit path (kit), and the environment to run ipfs-kit in (the HTTP server and
 * the proxy on ports of their own). The caller removes `work`.
 */
export function managerCopy(repo, bin, name, log = () => {}) {
  const work = mkdtempSync(`/tmp/ipfs-kit-bench-${name}-`)
  const env = {
    ...process.env,
    IPFS_PATH: join(work, 'ipfs'),
    IPFS_KIT_PATH: join(work, 'kit'),
    IPFS_KIT_IPFS_BIN: bin,
    IPFS_KIT_HTTP_LISTEN: '127.0.0.1:0',
    IPFS_KIT_PROXY_LISTEN: '127.0.0.1:0',
  }
  log(`copying the repository ${repo}`)
  cpSync(repo, env.IPFS_PATH, { recursive: true })
  return { work, env }
}

export async function makeRepo({
  pins,
  dir,
  fresh = false,
  bin,
  roots = 'raw',
  datastore = 'pebbleds',
  log = (m) => process.stderr.write(`${m}\n`),
}) {
  if (roots !== 'raw' && roots !== 'dag-pb') throw new Error(`roots: raw or dag-pb, not ${roots}`)
  if (datastore !== 'pebbleds' && datastore !== 'flatfs')
    throw new Error(`datastore: pebbleds or flatfs, not ${datastore}`)
  const name = `repo-${pins}${roots === 'raw' ? '' : `-${roots}`}${datastore === 'flatfs' ? '-flatfs' : ''}`
  const finalPath = join(dir, name)
  const doneMarker = join(finalPath, '.ipfs-kit-bench-done')
  if (existsSync(doneMarker) && !fresh) return finalPath
  rmSync(finalPath, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  // Build in memory where there is room (every pin is a synced datastore write, which on disk
  // makes building a million pins take far longer than the 10 minutes allowed), then copy the
  // finished repository to disk, where the benchmarks run.
  const scratch = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/ipfs-kit-bench-') : null
  const ipfsPath = scratch ? join(scratch, 'repo') : finalPath
  const env = { ...process.env, IPFS_PATH: ipfsPath }
  const ipfs = (args, input) => {
    const r = spawnSync(bin, args, { env, input, maxBuffer: 1 << 30, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`ipfs ${args.slice(0, 3).join(' ')} failed: ${r.stderr}`)
    return r.stdout
  }
  const t0 = performance.now()
  // flatfs with leveldb is what `ipfs init` makes without a datastore profile.
  ipfs(['init', datastore === 'flatfs' ? '--profile=test' : '--profile=test,pebbleds'])
  const direct = Math.floor(pins / 100)
  const named = Math.min(100, pins - direct)
  const recursive = pins - direct - named

  // Blocks: files of the text "ipfs-kit bench <kind> <i>", as raw leaves or UnixFS file nodes;
  // their CIDs are computed, not guessed.
  const block = async (kind, i) => {
    const text = new TextEncoder().encode(`ipfs-kit bench ${kind} ${i}`)
    if (roots === 'raw') return { cid: CID.createV1(RAW, await sha256.digest(text)), bytes: text }
    const bytes = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'file', data: text }).marshal() }))
    return { cid: CID.createV0(await sha256.digest(bytes)), bytes }
  }
  const writeCar = async (file, blocks, carRoots) => {
    const { writer, out } = CarWriter.create(carRoots)
    const done = pipeline(Readable.from(out), createWriteStream(file))
    for (const b of blocks) await writer.put(b)
    await writer.close()
    await done
  }
  const cars = []
  for (let start = 0; start < recursive; start += PER_CAR) {
    const blocks = []
    for (let i = start; i < Math.min(recursive, start + PER_CAR); i++)
      blocks.push(await block('recursive', i))
    const file = join(dir, `pins-${pins}-${start}.car`)
    await writeCar(file, blocks, [])
    cars.push(file)
  }
  const extra = []
  for (let i = 0; i < direct; i++) extra.push(await block('direct', i))
  for (let i = 0; i < named; i++) extra.push(await block('named', i))
  const extraCar = join(dir, `pins-${pins}-extra.car`)
  await writeCar(extraCar, extra, [])
  log(`bench: ${cars.length + 1} CAR files written in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

  // Offline import straight into the repository (no daemon needed).
  const t1 = performance.now()
  // Import without pinning, then pin in large batches: `pin add` with many CIDs flushes the
  // pinset once per call, where --pin-roots pays for every root on its own.
  ipfs(['dag', 'import', '--pin-roots=false', '--offline', ...cars, extraCar])
  log(
    `bench: ${recursive + direct + named} blocks imported in ${((performance.now() - t1) / 1000).toFixed(1)} s`,
  )
  const t2 = performance.now()
  for (let start = 0; start < recursive; start += 10_000) {
    const batch = []
    for (let i = start; i < Math.min(recursive, start + 10_000); i++)
      batch.push((await block('recursive', i)).cid.toString())
    ipfs(['pin', 'add', '--offline', ...batch])
  }
  log(`bench: ${recursive} recursive pins added in ${((performance.now() - t2) / 1000).toFixed(1)} s`)
  const directCids = extra.slice(0, direct).map((b) => b.cid.toString())
  for (let i = 0; i < directCids.length; i += 2000) {
    ipfs(['pin', 'add', '--offline', '--recursive=false', ...directCids.slice(i, i + 2000)])
  }
  for (let i = 0; i < named; i++) {
    ipfs(['pin', 'add', '--offline', `--name=bench-name-${i}`, extra[direct + i].cid.toString()])
  }
  for (const f of [...cars, extraCar]) rmSync(f, { force: true })
  if (scratch) {
    cpSync(ipfsPath, finalPath, { recursive: true })
    rmSync(scratch, { recursive: true, force: true })
  }
  writeFileSync(doneMarker, `${pins}\n`)
  log(
    `bench: repository with ${pins} pins ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${finalPath}`,
  )
  return finalPath
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      pins: { type: 'string' },
      roots: { type: 'string', default: 'raw' },
      datastore: { type: 'string', default: 'pebbleds' },
      dir: { type: 'string' },
      fresh: { type: 'boolean' },
      bin: { type: 'string' },
    },
  })
  const bin = values.bin ?? process.env.IPFS_KIT_IPFS_BIN
  if (!values.pins || !bin) {
    console.error(
      'usage: node bench/make-repo.mjs --pins <N> --bin <ipfs> [--roots raw|dag-pb] [--datastore pebbleds|flatfs] [--dir <folder>] [--fresh]',
    )
    process.exit(2)
  }
  const dir =
    values.dir ?? join(process.env.IPFS_KIT_CACHE ?? join(process.env.HOME, '.cache', 'ipfs-kit'), 'bench')
  console.log(
    await makeRepo({
      pins: Number(values.pins),
      roots: values.roots,
      datastore: values.datastore,
      dir,
      fresh: values.fresh ?? false,
      bin,
    }),
  )
}
