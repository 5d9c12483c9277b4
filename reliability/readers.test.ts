// Readers under rewrites: 8 processes loop `pin list --json --limit 0` for 60 s
// (IPFS_KIT_READERS_SECONDS) while the pinset changes: in turns, pins added and removed through
// Kubo followed by `index refresh`, and pins added and removed one at a time through ipfs-kit
// (recorded in pins_delta.parquet, no rewrite). No read may fail or fall back to the API, and every answer
// must be one complete snapshot of the node: its pin set equals one of the sets the node went
// through. The manager also lists on its own when it sees the datastore change (index.watch_s), so
// it may catch Kubo inside a batch (`block put --pin` of five, `pin rm` of three pin and unpin one
// at a time): such an answer lies between the states before and after that one batch, and holds
// everything common to both. A torn read (half a file, a delta applied to the wrong listing) does not.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runIpfs } from '../src/kubo/process.js'
import { type CliResult, runCli } from '../test/helpers/cli.js'
import { type DaemonEnv, daemonEnv } from '../test/helpers/daemon.js'
import { makeTempDir } from '../test/helpers/kubo.js'

const SECONDS = Number(process.env.IPFS_KIT_READERS_SECONDS ?? 60)
const READERS = 8
const BASE_PINS = 3000

interface Pin {
  cid: string
  type: string
  name: string | null
}

const setHash = (cids: Iterable<string>) =>
  createHash('sha256')
    .update([...cids].sort().join('\n'))
    .digest('hex')

let d: DaemonEnv | undefined
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

/** One reader process at a time: runs `pin list` until the writer is done; returns what each run said. */
async function reader(env: Record<string, string>, writing: { done: boolean }): Promise<CliResult[]> {
  const results: CliResult[] = []
  while (!writing.done) results.push(await runCli(['pin', 'list', '--json', '--limit', '0'], { env }))
  return results
}

// The fewest changes that make the run a test of anything. On a loaded machine a rewrite under
// eight readers can take longer than 60 s / 5, so the writer goes on past the deadline until these
// are done rather than the test failing on a slow machine (CI once saw 4 rewrites in 60 s).
const MIN_REFRESHES = 5
const MIN_DELTA_CHANGES = 8

/**
 * Whether `answer` lies between two consecutive states (everything in both, nothing in neither);
 * else how far it is from the closest one, to say what went wrong.
 */
function withinStep(states: Set<string>[], answer: Set<string>): { ok: boolean; closest: string } {
  let closest = ''
  let best = Number.POSITIVE_INFINITY
  for (let i = 0; i + 1 < states.length; i++) {
    const [a, b] = [states[i] as Set<string>, states[i + 1] as Set<string>]
    let missing = 0
    for (const cid of a) if (b.has(cid) && !answer.has(cid)) missing++
    let extra = 0
    for (const cid of answer) if (!a.has(cid) && !b.has(cid)) extra++
    if (missing === 0 && extra === 0) return { ok: true, closest: '' }
    if (missing + extra < best) {
      best = missing + extra
      closest = `closest to states ${i}-${i + 1} of ${states.length}: ${missing} pins of both missing, ${extra} pins of neither`
    }
  }
  return { ok: false, closest }
}

describe(`${READERS} readers for ${SECONDS} s while the index is rewritten`, () => {
  it('no read fails, and every answer is one complete snapshot of the pinset', async () => {
    d = await daemonEnv()
    const env = d
    assert.equal((await env.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    const bin = env.env.IPFS_KIT_IPFS_BIN as string
    const ipfs = (args: string[]) => runIpfs(bin, args, { ipfsPath: env.ipfsPath, timeoutMs: 120_000 })
    const dir = await makeTempDir('readers')
    let serial = 0
    const newBlocks = async (n: number): Promise<string[]> => {
      const files: string[] = []
      for (let i = 0; i < n; i++) {
        const f = join(dir, `b${serial++}`)
        await writeFile(f, `readers block ${serial} ${Date.now()}`)
        files.push(f)
      }
      const cids: string[] = []
      for (let i = 0; i < files.length; i += 1000) {
        const out = await ipfs(['block', 'put', '--pin=true', '--cid-codec=raw', ...files.slice(i, i + 1000)])
        cids.push(...out.trim().split('\n'))
      }
      return cids
    }
    // What `ipfs init` pinned, then the base pinset.
    const current = new Set<string>()
    for (const type of ['recursive', 'direct']) {
      for (const cid of (await ipfs(['pin', 'ls', `--type=${type}`, '-q'])).split('\n'))
        if (cid) current.add(cid)
    }
    for (const cid of await newBlocks(BASE_PINS)) current.add(cid)
    assert.equal((await env.cli(['index', 'refresh'])).code, 0)
    // Every pinset the node goes through, in order; an answer must be one of them or lie within
    // one step between two of them.
    const states: Set<string>[] = [new Set(current)]
    const seen = new Set([setHash(current)])
    const record = () => {
      states.push(new Set(current))
      seen.add(setHash(current))
    }

    const deadline = Date.now() + SECONDS * 1000
    const writing = { done: false }
    const readers = Array.from({ length: READERS }, () => reader(env.env, writing))
    let refreshes = 0
    let deltaChanges = 0
    const more = () => Date.now() < deadline || refreshes < MIN_REFRESHES || deltaChanges < MIN_DELTA_CHANGES
    try {
      for (let round = 0; more(); round++) {
        if (round % 2 === 0) {
          // Add a few pins and remove a few, through Kubo, then rewrite the index at once.
          for (const cid of await newBlocks(5)) current.add(cid)
          const gone = [...current].slice(0, 3)
          await ipfs(['pin', 'rm', ...gone])
          for (const cid of gone) current.delete(cid)
          record()
          const r = await env.cli(['index', 'refresh'])
          assert.equal(r.code, 0, r.stderr)
          refreshes++
        } else {
          // One change at a time through ipfs-kit: each is recorded in the delta, no rewrite.
          for (let i = 0; i < 2; i++) {
            const file = join(dir, `d${serial++}`)
            await writeFile(file, `readers delta block ${serial} ${Date.now()}`)
            const [cid] = (await ipfs(['block', 'put', '--cid-codec=raw', file])).trim().split('\n')
            const added = await env.cli(['pin', 'add', cid as string])
            assert.equal(added.code, 0, added.stderr)
            current.add(cid as string)
            record()
            const gone = [...current][i] as string
            const removed = await env.cli(['pin', 'rm', gone])
            assert.equal(removed.code, 0, removed.stderr)
            current.delete(gone)
            record()
            deltaChanges += 2
          }
        }
      }
    } finally {
      // Readers stop when the writer does, even when it failed, so the test ends.
      writing.done = true
    }
    const results = (await Promise.all(readers)).flat()
    let fromIndex = 0
    let withinBatch = 0
    const snapshots = new Set<string>()
    for (const r of results) {
      assert.equal(r.code, 0, r.stderr)
      const json = JSON.parse(r.stdout) as { source: string; total: number; pins: Pin[] }
      assert.equal(json.source, 'index', `a read fell back to the API: ${r.stderr}`)
      assert.equal(json.pins.length, json.total)
      const cids = json.pins.map((p) => p.cid)
      const hash = setHash(cids)
      if (!seen.has(hash)) {
        const step = withinStep(states, new Set(cids))
        assert.ok(step.ok, `an answer of ${cids.length} pins is not a state of the node: ${step.closest}`)
        withinBatch++
      }
      snapshots.add(hash)
      fromIndex++
    }
    process.stdout.write(
      `# readers: ${fromIndex} reads by ${READERS} processes during ${refreshes} rewrites and ${deltaChanges} pin changes through ipfs-kit (the delta); ${snapshots.size} different snapshots seen, all complete (${withinBatch} caught Kubo inside a batch)\n`,
    )
    assert.ok(
      refreshes >= MIN_REFRESHES && deltaChanges >= MIN_DELTA_CHANGES && snapshots.size >= 3,
      'the index really changed under the readers',
    )
  })
})
