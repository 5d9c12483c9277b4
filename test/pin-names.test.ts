// Listings without names (issue #18): between two listings with names (`index.names_every_s`),
// a cycle lists CIDs only and keeps the names it knows. On a real Kubo: a new pin made with plain
// `ipfs pin add --name` shows with its name (asked of Kubo); a rename of a pin already there
// shows at the next listing with names or `index refresh`, not before (and `index status` says
// how old the names are); a rename through ipfs-kit shows at once and stays.
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runIpfs } from '../src/kubo/process.js'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { makeTempDir } from './helpers/kubo.js'

const started: DaemonEnv[] = []
after(async () => {
  for (const d of started) await d.cli(['daemon', 'stop'])
})

async function node(namesEveryS: number) {
  const d = await daemonEnv({ extra: { IPFS_KIT_NAMES_EVERY_S: String(namesEveryS) } })
  started.push(d)
  assert.equal((await d.cli(['daemon', 'start', '--interval', '1'])).code, 0)
  const ipfs = (args: string[]) =>
    runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 60_000 })
  const dir = await makeTempDir('names')
  let n = 0
  const newCid = async () => {
    const f = join(dir, `f${n++}`)
    await writeFile(f, `names test ${n} ${Date.now()}`)
    return (await ipfs(['add', '-Q', '--pin=false', f])).trim()
  }
  const nameIn = async (cid: string) => {
    const r = await d.cli(['pin', 'list', '--cid', cid, '--json'])
    const pins = (JSON.parse(r.stdout) as { pins: Array<{ name: string | null }> }).pins
    return pins.length === 0 ? undefined : (pins[0]?.name ?? null)
  }
  const cyclesNow = async () => ((await d.status()).index.cycles ?? 0) as number
  const waitCycles = async (k: number) => {
    const from = await cyclesNow()
    await waitFor(`${k} more cycles`, async () => (await cyclesNow()) >= from + k, 30_000)
  }
  return { d, ipfs, newCid, nameIn, waitCycles }
}

describe('pin listings without names', () => {
  it('keeps the names it knows, asks Kubo for new pins, and lists names again on refresh', async () => {
    const { d, ipfs, newCid, nameIn, waitCycles } = await node(3600)
    const x = await newCid()
    await ipfs(['pin', 'add', '--name=fresh', x])
    // A new pin: its name asked of Kubo in a cycle without names.
    await waitFor('the new pin with its name', async () => (await nameIn(x)) === 'fresh', 30_000)
    const status = await d.cli(['index', 'status'])
    assert.match(status.stdout, /listed without names \(kept from .*, \d+ new asked of Kubo\)/)
    // A rename outside ipfs-kit of a pin already there: not seen by a cycle without names...
    await ipfs(['pin', 'add', '--name=renamed', x])
    await waitCycles(3)
    assert.equal(await nameIn(x), 'fresh', 'the known name is kept between listings with names')
    // ...seen by an asked-for cycle, which lists with names.
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.equal(await nameIn(x), 'renamed')
    assert.match((await d.cli(['index', 'status'])).stdout, /listed with names/)
    // A rename through ipfs-kit: at once, and kept by the cycles after.
    assert.equal((await d.cli(['pin', 'add', x, '--name', 'via ipfs-kit'])).code, 0)
    assert.equal(await nameIn(x), 'via ipfs-kit')
    await waitCycles(3)
    assert.equal(await nameIn(x), 'via ipfs-kit')
    // A plain re-pin without a name clears it in Kubo; the next listing with names says so.
    await ipfs(['pin', 'add', x])
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.equal(await nameIn(x), null)
  })

  it('with names every second, a rename outside ipfs-kit shows within a few cycles', async () => {
    const { ipfs, newCid, nameIn } = await node(1)
    const x = await newCid()
    await ipfs(['pin', 'add', '--name=one', x])
    await waitFor('the pin', async () => (await nameIn(x)) === 'one', 30_000)
    await ipfs(['pin', 'add', '--name=two', x])
    await waitFor('the rename', async () => (await nameIn(x)) === 'two', 30_000)
  })
})
