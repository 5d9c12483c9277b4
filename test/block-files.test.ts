// Kubo's block files read straight from a real repository's flatfs folder (kubo/flatfs.ts): the
// same bytes as `ipfs block get` for every kind of root, whatever the shard function; a block not
// here, a damaged one, one of another hash function or a file that cannot be read is null, never
// other bytes; a repository of another node or of another datastore is refused with its reason.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import { sha256, sha512 } from 'multiformats/hashes/sha2'
import { type BlockFiles, openBlockFiles } from '../src/kubo/flatfs.js'
import { readRepoConfig } from '../src/kubo/repo.js'
import { initTestRepo, makeTempDir } from './helpers/kubo.js'

let bin: string

/** A repository whose blocks folder uses this shard function: emptied and declared before any block is added. */
async function repoWithShard(shardFunc: string | null): Promise<string> {
  const repo = await initTestRepo()
  bin = repo.bin
  if (shardFunc) {
    const configFile = join(repo.ipfsPath, 'config')
    const config = JSON.parse(readFileSync(configFile, 'utf8'))
    const blocksMount = config.Datastore.Spec.mounts.find(
      (m: { mountpoint: string }) => m.mountpoint === '/blocks',
    )
    ;(blocksMount.child ?? blocksMount).shardFunc = shardFunc
    writeFileSync(configFile, JSON.stringify(config, null, 2))
    const specFile = join(repo.ipfsPath, 'datastore_spec')
    const spec = JSON.parse(readFileSync(specFile, 'utf8'))
    spec.mounts.find((m: { mountpoint: string }) => m.mountpoint === '/blocks').shardFunc = shardFunc
    writeFileSync(specFile, JSON.stringify(spec))
    // flatfs writes a new SHARDING file into a folder it creates.
    rmSync(join(repo.ipfsPath, 'blocks'), { recursive: true, force: true })
  }
  return repo.ipfsPath
}

function ipfs(ipfsPath: string, args: string[], input?: Buffer): Buffer {
  return execFileSync(bin, args, { env: { ...process.env, IPFS_PATH: ipfsPath }, input, maxBuffer: 1 << 26 })
}

/** Roots of every kind, added offline: their CIDs. */
async function addRoots(ipfsPath: string): Promise<string[]> {
  const dir = await makeTempDir('block-files')
  const small = join(dir, 'small.txt')
  writeFileSync(small, 'a small file\n')
  const big = join(dir, 'big.bin')
  const bytes = Buffer.alloc(600_000)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24
  writeFileSync(big, bytes)
  const node = join(dir, 'node.json')
  writeFileSync(node, '{"a": 1}')
  const add = (...args: string[]) =>
    ipfs(ipfsPath, ['add', '-Q', ...args])
      .toString()
      .trim()
  return [
    add(small), // dag-pb, one block
    add('--cid-version=1', small), // raw
    add(big), // dag-pb root of several blocks
    add('-r', dir), // a directory
    ipfs(ipfsPath, ['dag', 'put', node]).toString().trim(), // dag-cbor
  ]
}

async function open(ipfsPath: string): Promise<BlockFiles> {
  const peerId = (await readRepoConfig(ipfsPath))?.peerId as string
  const files = await openBlockFiles(ipfsPath, peerId)
  assert.ok('read' in files, `opened: ${'reason' in files ? files.reason : ''}`)
  return files
}

describe("Kubo's block files", () => {
  let ipfsPath: string
  let roots: string[]
  before(async () => {
    ipfsPath = await repoWithShard(null)
    roots = await addRoots(ipfsPath)
  })

  it('reads every kind of root block: the bytes `ipfs block get` gives', async () => {
    const files = await open(ipfsPath)
    assert.equal(files.folder, join(ipfsPath, 'blocks'))
    for (const cid of roots) {
      const read = files.read(CID.parse(cid).multihash)
      assert.ok(read, `${cid} read`)
      assert.deepEqual(Buffer.from(read), ipfs(ipfsPath, ['block', 'get', cid]), cid)
    }
    assert.deepEqual(files.failures(), { count: 0, first: null })
  })

  it('gives null for a block not here, one damaged, one of another hash function, and one that cannot be read', async () => {
    const files = await open(ipfsPath)
    const absent = await sha256.digest(new TextEncoder().encode('not in this repository'))
    assert.equal(files.read(absent), null)
    // Another hash function: read through Kubo instead.
    const other = CID.parse(
      ipfs(
        ipfsPath,
        ['add', '-Q', '--hash=sha2-512', '--cid-version=1', '--stdin-name=x'],
        Buffer.from('x\n'),
      )
        .toString()
        .trim(),
    )
    assert.equal(other.multihash.code, sha512.code)
    assert.equal(files.read(other.multihash), null)
    // A damaged block: its bytes no longer hash to its CID.
    const damagedDir = await makeTempDir('damaged')
    const victim = join(damagedDir, 'victim.txt')
    writeFileSync(victim, 'this block gets damaged\n')
    const cid = CID.parse(ipfs(ipfsPath, ['add', '-Q', '--cid-version=1', victim]).toString().trim())
    const key = base32upper.baseEncode(cid.multihash.bytes)
    const file = join(ipfsPath, 'blocks', key.slice(-3, -1), `${key}.data`)
    assert.ok(files.read(cid.multihash), 'read before it is damaged')
    writeFileSync(file, 'this block got damaged\n')
    assert.equal(files.read(cid.multihash), null)
    assert.equal(files.failures().count, 0, 'a mismatch is not a failure to read: Kubo is asked')
    // A file that cannot be read (a folder in its place).
    const odd = await sha256.digest(new TextEncoder().encode('a folder where a block would be'))
    const oddKey = base32upper.baseEncode(odd.bytes)
    mkdirSync(join(ipfsPath, 'blocks', oddKey.slice(-3, -1), `${oddKey}.data`), { recursive: true })
    assert.equal(files.read(odd), null)
    const failures = files.failures()
    assert.equal(failures.count, 1)
    assert.match(failures.first ?? '', /EISDIR|illegal operation on a directory/)
    // A FIFO in its place: the read fails at once, it does not wait for a writer.
    const fifo = await sha256.digest(new TextEncoder().encode('a fifo where a block would be'))
    const fifoKey = base32upper.baseEncode(fifo.bytes)
    mkdirSync(join(ipfsPath, 'blocks', fifoKey.slice(-3, -1)), { recursive: true })
    execFileSync('mkfifo', [join(ipfsPath, 'blocks', fifoKey.slice(-3, -1), `${fifoKey}.data`)])
    assert.equal(files.read(fifo), null)
    assert.equal(files.failures().count, 2)
  })

  it('reads under any shard function flatfs has (prefix, suffix, next-to-last)', async () => {
    for (const shard of [
      '/repo/flatfs/shard/v1/prefix/4',
      '/repo/flatfs/shard/v1/suffix/3',
      '/repo/flatfs/shard/v1/next-to-last/3',
    ]) {
      const repo = await repoWithShard(shard)
      const cids = await addRoots(repo)
      assert.equal(
        readFileSync(join(repo, 'blocks', 'SHARDING'), 'utf8').trim(),
        shard,
        'Kubo wrote the shard function',
      )
      const files = await open(repo)
      for (const cid of cids) {
        const read = files.read(CID.parse(cid).multihash)
        assert.ok(read, `${shard}: ${cid} read`)
        assert.equal(createHash('sha256').update(read).digest().equals(CID.parse(cid).multihash.digest), true)
      }
    }
  })

  it("refuses another node's repository, and one whose blocks are not in flatfs, with the reason", async () => {
    const other = await openBlockFiles(ipfsPath, '12D3KooWSomeOtherNodeSomeOtherNodeSomeOtherNode')
    assert.ok('reason' in other)
    assert.match(other.reason, /not that of the node indexed/)
    const pebble = await makeTempDir('pebble')
    ipfs(pebble, ['init', '--profile=test,pebbleds'])
    const peerId = (await readRepoConfig(pebble))?.peerId as string
    const refused = await openBlockFiles(pebble, peerId)
    assert.ok('reason' in refused)
    assert.match(refused.reason, /not in a flatfs folder \(Datastore.Spec: pebbleds\)/)
    const none = await openBlockFiles(join(pebble, 'nothing-here'), peerId)
    assert.ok('reason' in none)
    assert.match(none.reason, /cannot read .*config/)
  })
})
