// Fresh at any size (issue #18): between cycles the manager looks at Kubo's datastore files every
// few seconds (sizes and times, no RPC); a pin made with plain `ipfs pin add` runs a cycle at once,
// however long the interval, and `index status` says why each cycle ran. A cycle that finds the
// datastore as the last listing left it does not list the pins again (until index.max_staleness_s).
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { pinCollector } from '../src/indexer/pins.js'
import { watchedFolders } from '../src/kubo/datastore-watch.js'
import { runIpfs } from '../src/kubo/process.js'
import { pinsCheckedPath } from '../src/store/layout.js'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { makeTempDir, startKubo } from './helpers/kubo.js'

const started: DaemonEnv[] = []
after(async () => {
  for (const d of started) await d.cli(['daemon', 'stop'])
})

async function node(extra: Record<string, string>, interval: string) {
  const d = await daemonEnv({ extra })
  started.push(d)
  assert.equal((await d.cli(['daemon', 'start', '--interval', interval])).code, 0)
  const ipfs = (args: string[]) =>
    runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 60_000 })
  const dir = await makeTempDir('fresh')
  const newCid = async (label: string) => {
    const f = join(dir, label)
    await writeFile(f, `freshness ${label} ${Date.now()}`)
    return (await ipfs(['add', '-Q', '--pin=false', f])).trim()
  }
  const listed = async (cid: string) =>
    (JSON.parse((await d.cli(['pin', 'list', '--cid', cid, '--json'])).stdout) as { pins: unknown[] }).pins
      .length
  const indexStatus = async () =>
    JSON.parse((await d.cli(['index', 'status', '--json'])).stdout) as {
      cycles: number
      last_cycle: { reason: string }
      collectors: { pins: { last_detail: string } }
    }
  return { d, ipfs, newCid, listed, indexStatus }
}

describe('freshness', () => {
  it('a plain ipfs pin add shows within seconds with an hour between cycles; an idle node runs none', async () => {
    const { ipfs, newCid, listed, indexStatus } = await node({}, '3600')
    const cid = await newCid('a')
    const t0 = Date.now()
    await ipfs(['pin', 'add', cid])
    await waitFor('the pin in the index', async () => (await listed(cid)) === 1, 15_000)
    const seconds = (Date.now() - t0) / 1000
    assert.ok(seconds < 10, `${seconds} s`)
    const st = await indexStatus()
    assert.equal(st.last_cycle.reason, "a change in Kubo's datastore")
    // Nothing changes: no cycle runs (several looks at the datastore go by).
    const before = st.cycles
    await new Promise((r) => setTimeout(r, 7_000))
    assert.equal((await indexStatus()).cycles, before)
  })

  it('a cycle that finds the datastore unchanged does not list again, and says so', async () => {
    const { d, newCid, ipfs, listed, indexStatus } = await node({ IPFS_KIT_MAX_STALENESS_S: '3600' }, '1')
    await waitFor(
      'a cycle that does not list',
      async () =>
        /^not listed: Kubo's datastore is as the listing of .* left it/.test(
          (await indexStatus()).collectors.pins.last_detail,
        ),
      15_000,
    )
    const checked = JSON.parse(await readFile(pinsCheckedPath(d.kitPath), 'utf8')) as {
      checked_by: string
      checked_at: string
    }
    assert.equal(checked.checked_by, 'datastore')
    assert.ok(Date.now() - Date.parse(checked.checked_at) < 10_000)
    // The pin counts of those cycles are the listing's (the storage state has them, not null).
    const storage = JSON.parse((await d.cli(['state', 'storage', '--json'])).stdout) as {
      values: { pins_recursive: number | null }
    }
    assert.equal(typeof storage.values.pins_recursive, 'number')
    // A pin added through ipfs-kit: no listing follows (the delta holds it), and its size, which
    // the content index finds at once, stays through the cycles after.
    const viaKit = await newCid('kit')
    assert.equal((await d.cli(['pin', 'add', viaKit])).code, 0)
    const sizeOf = async () =>
      (
        JSON.parse((await d.cli(['pin', 'list', '--cid', viaKit, '--json'])).stdout) as {
          pins: Array<{ size: number | null }>
        }
      ).pins[0]?.size ?? null
    await waitFor('its size', async () => (await sizeOf()) !== null, 15_000)
    const cycles = (await indexStatus()).cycles
    await waitFor('three more cycles', async () => (await indexStatus()).cycles >= cycles + 3, 15_000)
    assert.notEqual(await sizeOf(), null, 'the size is kept')
    assert.match((await indexStatus()).collectors.pins.last_detail, /^not listed/)
    // A change still lists at once.
    const cid = await newCid('b')
    await ipfs(['pin', 'add', cid])
    await waitFor('the pin in the index', async () => (await listed(cid)) === 1, 15_000)
  })

  it('a change through ipfs-kit does not hide a change the watch saw before it and has not listed yet', async () => {
    // The pin collector on a real Kubo, its datastore fingerprint set by the test: what the loop's
    // watch and a change through ipfs-kit (accountFor) see, in the order that once lost a change.
    const kubo = await startKubo()
    try {
      let fp = 'listed'
      const pins = pinCollector({
        kitPath: await makeTempDir('kit'),
        writer: 'ipfs-kit test',
        watch: { fingerprint: () => fp, describe: () => 'set by the test' },
        maxStalenessMs: () => 3_600_000,
      })
      const ctx = (cycle: number) => ({
        rpc: kubo.rpc,
        peerId: kubo.peerId,
        kuboVersion: null,
        signal: new AbortController().signal,
        cycle,
      })
      assert.equal((await pins.run(ctx(1))).wrote, true)
      assert.equal(pins.changed(), null, 'as listed')
      // A change through ipfs-kit alone: known, no reason to list.
      fp = 'listed + kit change'
      pins.accountFor()
      assert.equal(pins.changed(), null)
      assert.match((await pins.run(ctx(2))).detail ?? '', /^not listed/)
      // A plain `ipfs pin add`: the watch sees it (the loop waits out busy_share before listing).
      fp = 'listed + kit change + plain pin add'
      assert.equal(pins.changed(), "a change in Kubo's datastore")
      // A change through ipfs-kit now must not make that one known.
      fp = 'listed + kit change + plain pin add + kit change'
      pins.accountFor()
      assert.equal(
        pins.changed(),
        "a change in Kubo's datastore",
        'the plain pin add still asks for a listing',
      )
      assert.match((await pins.run(ctx(3))).detail ?? '', /^listed/)
      assert.equal(pins.changed(), null, 'listed now')
      // And after that listing, changes through ipfs-kit are known again.
      fp = 'after the listing + kit change'
      pins.accountFor()
      assert.equal(pins.changed(), null)
    } finally {
      await kubo.stop()
    }
  })

  it('lists at least every index.max_staleness_s even when nothing changes', async () => {
    const { indexStatus } = await node({ IPFS_KIT_MAX_STALENESS_S: '1' }, '1')
    await waitFor(
      'a listing of an unchanged node',
      async () => {
        const st = await indexStatus()
        return st.cycles >= 3 && /^listed/.test(st.collectors.pins.last_detail)
      },
      20_000,
    )
  })

  it('knows which datastores it can watch', () => {
    const test = {
      type: 'mount',
      mounts: [
        {
          mountpoint: '/blocks',
          type: 'measure',
          prefix: 'flatfs.datastore',
          child: { type: 'flatfs', path: 'blocks', shardFunc: 'x', sync: false },
        },
        {
          mountpoint: '/',
          type: 'measure',
          prefix: 'leveldb.datastore',
          child: { type: 'levelds', path: 'datastore', compression: 'none' },
        },
      ],
    }
    assert.deepEqual(watchedFolders(test, '/r'), ['/r/datastore'])
    const pebble = {
      type: 'mount',
      mounts: [
        {
          mountpoint: '/',
          type: 'measure',
          prefix: 'pebble.datastore',
          child: { type: 'pebbleds', path: 'pebbleds' },
        },
      ],
    }
    assert.deepEqual(watchedFolders(pebble, '/r'), ['/r/pebbleds'])
    assert.deepEqual(watchedFolders({ type: 'levelds', path: '/abs/ds' }, '/r'), ['/abs/ds'])
    // A store it does not know, or flatfs holding the pins: no watch (every cycle lists).
    assert.equal(
      watchedFolders({ type: 'mount', mounts: [{ mountpoint: '/', type: 's3ds', path: 'x' }] }, '/r'),
      null,
    )
    assert.equal(watchedFolders({ type: 'flatfs', path: 'blocks' }, '/r'), null)
    assert.equal(watchedFolders(null, '/r'), null)
  })
})
