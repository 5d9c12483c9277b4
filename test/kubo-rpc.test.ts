// The RPC client against a real Kubo: every typed call agrees with what the ipfs CLI says, pins
// come back with their type and name, and a 20,000-pin stream is read in full and can be cut short.
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KuboRpcError } from '../src/errors.js'
import type { PinEntry } from '../src/kubo/rpc.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

let kubo: TestKubo
before(async () => {
  kubo = await startKubo()
})
after(async () => {
  await kubo?.stop()
})

async function collect(iter: AsyncIterable<PinEntry>): Promise<PinEntry[]> {
  const out: PinEntry[] = []
  for await (const p of iter) out.push(p)
  return out
}

/** `ipfs pin ls --type=<t> --names` as rows, the reference the client is compared with. */
async function cliPins(type: 'recursive' | 'direct'): Promise<Array<{ cid: string; name: string | null }>> {
  const out = await kubo.ipfs(['pin', 'ls', `--type=${type}`, '--names', '--enc=json', '--stream'])
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { Cid: string; Name?: string })
    .map((p) => ({ cid: p.Cid, name: p.Name ? p.Name : null }))
    .sort((a, b) => a.cid.localeCompare(b.cid))
}

describe('KuboRpc against a real Kubo', () => {
  it('id and version agree with the ipfs CLI', async () => {
    const id = await kubo.rpc.id()
    assert.equal(id.id, (await kubo.ipfs(['id', '-f', '<id>'])).trim())
    const version = await kubo.rpc.version()
    assert.equal(version.version, (await kubo.ipfs(['version', '--number'])).trim())
  })

  it('lists pins added with ipfs add and ipfs pin add with their type and name', async () => {
    const dir = await makeTempDir('files')
    await writeFile(join(dir, 'a.txt'), 'recursive pin, unnamed')
    await writeFile(join(dir, 'b.txt'), 'direct pin, named')
    await writeFile(join(dir, 'c.txt'), 'recursive pin, named')
    const a = (await kubo.ipfs(['add', '-Q', join(dir, 'a.txt')])).trim()
    const b = (await kubo.ipfs(['add', '-Q', '--pin=false', join(dir, 'b.txt')])).trim()
    await kubo.ipfs(['pin', 'add', '--recursive=false', '--name=my direct pin', b])
    const c = (await kubo.ipfs(['add', '-Q', '--pin=false', join(dir, 'c.txt')])).trim()
    await kubo.ipfs(['pin', 'add', '--name=named-recursive', c])

    const recursive = await collect(kubo.rpc.pinLs({ type: 'recursive' }))
    const direct = await collect(kubo.rpc.pinLs({ type: 'direct' }))
    assert.deepEqual(
      recursive.find((p) => p.cid === a),
      { cid: a, type: 'recursive', name: null },
    )
    assert.deepEqual(
      recursive.find((p) => p.cid === c),
      { cid: c, type: 'recursive', name: 'named-recursive' },
    )
    assert.deepEqual(direct, [{ cid: b, type: 'direct', name: 'my direct pin' }])
    // Row for row what the CLI lists.
    assert.deepEqual(
      recursive.map((p) => ({ cid: p.cid, name: p.name })).sort((x, y) => x.cid.localeCompare(y.cid)),
      await cliPins('recursive'),
    )
    // One CID: the same pin, and Kubo's own error for a CID that is not pinned.
    assert.deepEqual(await collect(kubo.rpc.pinLs({ type: 'all', cid: b })), [
      { cid: b, type: 'direct', name: 'my direct pin' },
    ])
  })

  it('pins and unpins through pin/add and pin/rm, with progress', async () => {
    const dir = await makeTempDir('files')
    await writeFile(join(dir, 'x.bin'), Buffer.alloc(600_000, 7))
    const cid = (await kubo.ipfs(['add', '-Q', '--pin=false', join(dir, 'x.bin')])).trim()
    const events = []
    for await (const e of kubo.rpc.pinAdd(cid, { name: 'through rpc' })) events.push(e)
    assert.deepEqual(events.at(-1)?.pins, [cid])
    const listed = await collect(kubo.rpc.pinLs({ type: 'recursive', cid }))
    assert.deepEqual(listed, [{ cid, type: 'recursive', name: 'through rpc' }])
    assert.deepEqual(await kubo.rpc.pinRm(cid), [cid])
    await assert.rejects(collect(kubo.rpc.pinLs({ type: 'recursive', cid })), (err: unknown) => {
      assert.ok(err instanceof KuboRpcError, String(err))
      assert.match(err.kuboMessage, /not pinned/)
      return true
    })
  })

  it('turns Kubo error bodies into KuboRpcError with Kubo message', async () => {
    await assert.rejects(collect(kubo.rpc.pinLs({ cid: 'not-a-cid' })), (err: unknown) => {
      assert.ok(err instanceof KuboRpcError)
      assert.equal(err.status, 500)
      assert.match(err.kuboMessage, /not-a-cid/)
      return true
    })
  })

  it('reads repo, bandwidth, bitswap, files and swarm state with real values', async () => {
    const sizeOnly = await kubo.rpc.repoStat({ sizeOnly: true })
    assert.ok(sizeOnly.repoSize > 0)
    assert.equal(sizeOnly.storageMax, 10_000_000_000)
    assert.equal(sizeOnly.numObjects, null)
    const full = await kubo.rpc.repoStat()
    assert.ok((full.numObjects ?? 0) > 0)
    assert.equal(full.repoPath, kubo.ipfsPath)
    const cliSize = JSON.parse(await kubo.ipfs(['repo', 'stat', '--size-only', '--enc=json'])) as {
      RepoSize: number
    }
    assert.ok(Math.abs(cliSize.RepoSize - sizeOnly.repoSize) <= sizeOnly.repoSize * 0.1)

    const bw = await kubo.rpc.statsBw()
    assert.ok(bw.totalIn >= 0 && bw.rateIn >= 0)
    const bitswap = await kubo.rpc.bitswapStat()
    assert.ok(bitswap.blocksReceived >= 0)
    const root = await kubo.rpc.filesStat('/')
    assert.equal(root.type, 'directory')
    assert.equal(root.hash, (await kubo.ipfs(['files', 'stat', '--hash', '/'])).trim())
    assert.deepEqual(await kubo.rpc.swarmPeers(), [])
    const config = await kubo.rpc.configShow()
    assert.equal((config.Identity as { PeerID: string }).PeerID, kubo.peerId)
    assert.equal((config.Identity as { PrivKey?: string }).PrivKey, undefined)
  })

  it('streams 20,000 pins in full, and stops early without reading the rest', async () => {
    // 20,000 distinct raw blocks, pinned by `ipfs block put --pin` in batches of files.
    const dir = await makeTempDir('blocks')
    const total = 20_000
    const batch = 2_000
    for (let start = 0; start < total; start += batch) {
      const files: string[] = []
      for (let i = start; i < start + batch; i++) {
        const file = join(dir, `b${i}`)
        await writeFile(file, `pin number ${i}`)
        files.push(file)
      }
      await kubo.ipfs(['block', 'put', '--pin=true', '--cid-codec=raw', ...files])
    }
    const expected = new Set((await cliPins('recursive')).map((p) => p.cid))
    assert.ok(expected.size >= total)
    let count = 0
    const seen = new Set<string>()
    for await (const pin of kubo.rpc.pinLs({ type: 'recursive', names: false })) {
      assert.equal(pin.type, 'recursive')
      seen.add(pin.cid)
      count++
    }
    assert.equal(count, expected.size)
    assert.deepEqual(seen, expected)

    // Leaving the loop early closes the stream; the node goes on answering.
    let taken = 0
    for await (const _ of kubo.rpc.pinLs({ type: 'recursive', names: false })) {
      if (++taken === 10) break
    }
    assert.equal(taken, 10)
    assert.equal((await kubo.rpc.id()).id, kubo.peerId)
  })
})
