// `ipfs-kit pin` end to end on a real node with 2,000+ pins: the index equals Kubo's own
// listing row for row, changes through ipfs-kit show at once, an unchanged pinset is not
// rewritten, and an old index is flagged stale.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { indexFilePath, PINS_META, pinSubsetPath } from '../src/store/layout.js'
import { checkIndexFile } from '../src/store/reader.js'
import { CLI } from './helpers/cli.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { writePinsFile } from './helpers/index-files.js'
import { makeTempDir } from './helpers/kubo.js'

interface Pin {
  cid: string
  type: string
  name: string | null
}
interface ListJson {
  source: 'index' | 'api'
  generated_at: string | null
  stale: boolean
  total: number | null
  pins: Pin[]
}

let d: DaemonEnv
let peerId: string
const byCid = (a: Pin, b: Pin) => (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0)

async function ipfs(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 300_000 })
}

/** The truth: `ipfs pin ls --type=recursive` plus `--type=direct`, with names. */
async function kuboPins(): Promise<Pin[]> {
  const out: Pin[] = []
  for (const type of ['recursive', 'direct']) {
    const text = await ipfs(['pin', 'ls', `--type=${type}`, '--names', '--enc=json', '--stream'])
    for (const line of text.split('\n').filter(Boolean)) {
      const p = JSON.parse(line) as { Cid: string; Name?: string }
      out.push({ cid: p.Cid, type, name: p.Name ? p.Name : null })
    }
  }
  return out.sort(byCid)
}

async function list(args: string[] = []): Promise<{ json: ListJson; stderr: string; code: number | null }> {
  const r = await d.cli(['pin', 'list', '--json', '--limit', '0', ...args])
  const json = JSON.parse(r.stdout || 'null') as ListJson
  // The pin itself (size, kind and MIME type are content.test.ts's to check).
  if (json) json.pins = json.pins.map(({ cid, type, name }) => ({ cid, type, name }))
  return { json, stderr: r.stderr, code: r.code }
}

/** Writes n distinct raw blocks; returns their CIDs. */
async function makeBlocks(n: number, tag: string, pin: boolean): Promise<string[]> {
  const dir = await makeTempDir('blocks')
  const files: string[] = []
  for (let i = 0; i < n; i++) {
    const f = join(dir, `${tag}${i}`)
    await writeFile(f, `${tag} block ${i}`)
    files.push(f)
  }
  const cids: string[] = []
  for (let i = 0; i < files.length; i += 1000) {
    const out = await ipfs(['block', 'put', `--pin=${pin}`, '--cid-codec=raw', ...files.slice(i, i + 1000)])
    cids.push(...out.trim().split('\n'))
  }
  return cids
}

before(async () => {
  // Cycles only when asked: these tests tell changes answered from the delta from those of a
  // relisting, and the datastore watch (test/freshness.test.ts) would relist whenever the blocks
  // they write land between two looks (a CI run under load saw it).
  d = await daemonEnv({ extra: { IPFS_KIT_WATCH_S: '3600' } })
  const start = await d.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  peerId = (await d.status()).kubo.peer_id as string
  await makeBlocks(1500, 'recursive', true)
  const direct = await makeBlocks(520, 'direct', false)
  for (let i = 0; i < direct.length; i += 500) {
    await ipfs(['pin', 'add', '--recursive=false', ...direct.slice(i, i + 500)])
  }
  const named = await makeBlocks(25, 'named', false)
  for (const [i, cid] of named.entries()) {
    await ipfs([
      'pin',
      'add',
      `--recursive=${i % 5 !== 0}`,
      `--name=project-${i % 3 === 0 ? 'alpha' : 'beta'} #${i}`,
      cid,
    ])
  }
  const refresh = await d.cli(['index', 'refresh'])
  assert.equal(refresh.code, 0, refresh.stderr)
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

describe('ipfs-kit pin', () => {
  it('lists every pin from the index, equal to ipfs pin ls row for row (CID, type, name)', async () => {
    const truth = await kuboPins()
    assert.ok(truth.length >= 2000, `${truth.length} pins`)
    assert.ok(truth.some((p) => p.type === 'direct' && p.name?.startsWith('project-')))
    const { json, code, stderr } = await list()
    assert.equal(code, 0, stderr)
    assert.equal(json.source, 'index')
    assert.ok(json.generated_at && !Number.isNaN(Date.parse(json.generated_at)))
    assert.equal(json.stale, false)
    assert.equal(json.total, truth.length)
    assert.deepEqual(json.pins, truth, 'same rows, in CID order')
  })

  it('streams --ndjson a batch at a time, the rows of --json, and ends quietly when its reader stops', async () => {
    const { json } = await list()
    const streamed = await d.cli(['pin', 'list', '--ndjson', '--limit', '0'])
    assert.equal(streamed.code, 0, streamed.stderr)
    const rows = streamed.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Pin)
      .map(({ cid, type, name }) => ({ cid, type, name }))
    assert.deepEqual(rows, json.pins)
    // Over 2,000 rows are far more than a pipe holds: the reader that closes after the first
    // chunk makes the next write fail (EPIPE), as `ipfs-kit pin list --limit 0 | head` does.
    const child = spawn(process.execPath, [CLI, 'pin', 'list', '--ndjson', '--limit', '0'], {
      env: { ...process.env, ...d.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (c) => {
      stderr += c
    })
    await once(child.stdout, 'data')
    child.stdout.destroy()
    const [code] = await once(child, 'exit')
    assert.equal(code, 0, stderr)
    assert.equal(stderr, '')
  })

  it('filters by type, name and limit, with the table and its footer by default', async () => {
    const truth = await kuboPins()
    const direct = await list(['--type', 'direct'])
    assert.deepEqual(
      direct.json.pins,
      truth.filter((p) => p.type === 'direct'),
    )
    assert.equal(direct.json.total, direct.json.pins.length)
    const alpha = await list(['--name', 'project-alpha'])
    assert.deepEqual(
      alpha.json.pins,
      truth.filter((p) => p.name?.includes('project-alpha')),
    )
    const exact = await list(['--name-exact', 'project-beta #1'])
    assert.deepEqual(
      exact.json.pins.map((p) => p.name),
      ['project-beta #1'],
    )
    const table = await d.cli(['pin', 'list', '--limit', '5'])
    assert.equal(table.code, 0)
    const lines = table.stdout.trim().split('\n')
    assert.match(lines[0] ?? '', /^CID +TYPE +SIZE +KIND +NAME$/)
    assert.equal(lines.length, 6)
    assert.equal(lines[1]?.split(/\s+/)[0], truth[0]?.cid)
    assert.match(
      table.stderr,
      new RegExp(`5 of ${truth.length} shown · from the index, confirmed \\d+ s ago`),
    )
    const nd = await d.cli(['pin', 'list', '--ndjson', '--limit', '0'])
    assert.deepEqual(
      nd.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Pin & { size: unknown; kind: unknown; mime: unknown })
        .map((p) => {
          // Each streamed pin carries what content.parquet says of it (content.test.ts checks the values).
          assert.ok('size' in p && 'kind' in p && 'mime' in p)
          return { cid: p.cid, type: p.type, name: p.name }
        }),
      truth,
    )
  })

  it('answers --name from pins_named.parquet when it holds the same pinset, else from pins.parquet', async () => {
    const truth = await kuboPins()
    const named = truth.filter((p) => p.name !== null)
    const namedPath = pinSubsetPath(d.kitPath, 'pins_named')
    const check = await checkIndexFile(namedPath, 'pins_named', peerId)
    const base = await checkIndexFile(indexFilePath(d.kitPath, 'pins'), 'pins', peerId)
    assert.ok(base.status === 'valid' && check.status === 'valid', JSON.stringify([base, check]))
    const pinset = base.header.kv[PINS_META.pinsetSha256] as string
    assert.equal(check.header.kv[PINS_META.pinsetSha256], pinset)
    assert.equal(check.header.rowCount, named.length)
    const alpha = truth.filter((p) => p.name?.includes('project-alpha'))
    assert.deepEqual((await list(['--name', 'project-alpha'])).json.pins, alpha)
    // A quarter of this node's pins are direct: too many for pins_direct.parquet to pay.
    assert.ok(truth.filter((p) => p.type === 'direct').length > truth.length / 10)
    await assert.rejects(stat(pinSubsetPath(d.kitPath, 'pins_direct')), { code: 'ENOENT' })
    // A file that claims this pinset is believed (it is checked like any index file), one of
    // another pinset is not: here each holds only the first alpha pin.
    const saved = join(await makeTempDir('saved'), 'pins_named.parquet')
    await copyFile(namedPath, saved)
    const first = alpha[0] as Pin
    const plant = (sha: string) =>
      writePinsFile(namedPath, {
        kind: 'pins_named',
        peerId,
        cids: [first.cid],
        types: [first.type],
        names: [first.name],
        extra: { [PINS_META.pinsetSha256]: sha },
      })
    try {
      await plant(pinset)
      assert.deepEqual((await list(['--name', 'project-alpha'])).json.pins, [first])
      await plant('0'.repeat(64))
      assert.deepEqual((await list(['--name', 'project-alpha'])).json.pins, alpha)
      await rm(namedPath)
      assert.deepEqual((await list(['--name', 'project-alpha'])).json.pins, alpha)
      // An unchanged pinset is not rewritten, but its missing named-pins file is.
      assert.equal((await d.cli(['index', 'refresh'])).code, 0)
      const again = await checkIndexFile(namedPath, 'pins_named', peerId)
      assert.ok(again.status === 'valid' && again.header.kv[PINS_META.pinsetSha256] === pinset)
      assert.deepEqual((await list(['--name', 'project-alpha'])).json.pins, alpha)
    } finally {
      await copyFile(saved, namedPath)
    }
  })

  it('answers --cid for a present and an absent CID from the index, in either CID spelling', async () => {
    const truth = await kuboPins()
    const middle = truth[Math.floor(truth.length / 2)] as Pin
    const present = await list(['--cid', middle.cid])
    assert.equal(present.json.source, 'index')
    assert.deepEqual(present.json.pins, [middle])
    const absent = (
      await ipfs(['add', '-Q', '--only-hash', '--cid-version=1', '--raw-leaves', '/etc/hostname'])
    ).trim()
    const none = await list(['--cid', absent])
    assert.equal(none.code, 0)
    assert.equal(none.json.source, 'index')
    assert.deepEqual(none.json.pins, [])
    // The empty directory Kubo pins at init is listed as v0; its v1 spelling finds it too.
    const v0 = truth.find((p) => p.cid.startsWith('Qm')) as Pin
    const { CID } = await import('multiformats/cid')
    const v1 = CID.parse(v0.cid).toV1().toString()
    assert.deepEqual((await list(['--cid', v1])).json.pins, [v0])
  })

  it('shows pin rm and pin add done through ipfs-kit at once, from the delta, without rewriting pins.parquet', async () => {
    const before = await kuboPins()
    const pinsFile = indexFilePath(d.kitPath, 'pins')
    const written = (await stat(pinsFile)).mtimeMs
    const cycles = JSON.parse((await d.cli(['index', 'status', '--json'])).stdout).cycles as number
    const toRemove = before.filter((p) => p.type === 'recursive').slice(0, 10)
    for (const p of toRemove) {
      const r = await d.cli(['pin', 'rm', p.cid])
      assert.equal(r.code, 0, r.stderr)
    }
    const fresh = await makeBlocks(10, 'fresh', false)
    for (const [i, cid] of fresh.entries()) {
      const r = await d.cli(['pin', 'add', cid, '--name', `fresh ${i}`])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`pinned ${cid}`))
    }
    const truth = await kuboPins()
    assert.equal(truth.length, before.length)
    const { json } = await list()
    assert.equal(json.source, 'index')
    assert.deepEqual(json.pins, truth)
    assert.equal(json.total, truth.length)
    assert.ok(json.pins.some((p) => p.name === 'fresh 9'))
    // A name query (answered from pins_named.parquet) applies the delta too.
    assert.deepEqual((await list(['--name', 'fresh 9'])).json.pins, [
      { cid: fresh[9], type: 'recursive', name: 'fresh 9' },
    ])
    assert.deepEqual(
      (await list(['--name', 'project-alpha'])).json.pins,
      truth.filter((p) => p.name?.includes('project-alpha')),
    )
    for (const type of ['recursive', 'direct'] as const) {
      const typed = await list(['--type', type, '--limit', '3'])
      assert.deepEqual(typed.json.pins, truth.filter((p) => p.type === type).slice(0, 3))
      assert.equal(typed.json.total, truth.filter((p) => p.type === type).length)
    }
    assert.deepEqual((await list(['--cid', fresh[3] as string])).json.pins, [
      { cid: fresh[3], type: 'recursive', name: 'fresh 3' },
    ])
    assert.deepEqual((await list(['--cid', (toRemove[0] as Pin).cid])).json.pins, [])
    // The changes came from the delta: no full cycle ran and pins.parquet is the one from before.
    assert.equal((await stat(pinsFile)).mtimeMs, written)
    assert.equal(JSON.parse((await d.cli(['index', 'status', '--json'])).stdout).cycles, cycles)
    const deltaFile = join(d.kitPath, 'pin_metadata', 'parquet_storage', 'pins_delta.parquet')
    assert.ok((await stat(deltaFile)).size > 0)
    // daemon status counts them too: one more recursive pin out, and a direct one in.
    const counts = async () =>
      (
        JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout) as {
          storage: { pin_count: number; pins_by_type: { recursive: number; direct: number } }
        }
      ).storage
    const beforeCounts = await counts()
    assert.equal(beforeCounts.pin_count, truth.length)
    const [extra] = await makeBlocks(1, 'status-count', false)
    const gone = truth.find((p) => p.type === 'recursive' && p.name === null) as Pin
    assert.equal((await d.cli(['pin', 'rm', gone.cid])).code, 0)
    assert.equal((await d.cli(['pin', 'add', '--direct', extra as string])).code, 0)
    const afterCounts = await counts()
    assert.deepEqual(afterCounts.pins_by_type, {
      recursive: beforeCounts.pins_by_type.recursive - 1,
      direct: beforeCounts.pins_by_type.direct + 1,
    })
    assert.equal((await d.cli(['pin', 'rm', extra as string])).code, 0)
    assert.equal((await d.cli(['pin', 'add', gone.cid])).code, 0)
    assert.deepEqual((await counts()).pins_by_type, beforeCounts.pins_by_type)
    // A full cycle folds them into pins.parquet and empties the delta.
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    await assert.rejects(stat(deltaFile), { code: 'ENOENT' })
    assert.deepEqual((await list()).json.pins, truth)
  })

  it('drops a recorded change the node has since undone behind ipfs-kit', async () => {
    const [cid] = await makeBlocks(1, 'undone', false)
    assert.equal((await d.cli(['pin', 'add', cid as string])).code, 0)
    assert.equal((await list(['--cid', cid as string])).json.pins.length, 1)
    // Unpinned with Kubo directly: the delta still says "added" until the next cycle...
    await ipfs(['pin', 'rm', cid as string])
    // ...whose pinset is the one pins.parquet already holds: not rewritten, but the delta is folded.
    const r = await d.cli(['index', 'refresh'])
    assert.match(r.stdout, /pins: \d+ rows unchanged/)
    assert.deepEqual((await list(['--cid', cid as string])).json.pins, [])
    assert.deepEqual((await list()).json.pins, await kuboPins())
  })

  it('leaves pins.parquet alone when the pinset did not change, and still records the check', async () => {
    const path = indexFilePath(d.kitPath, 'pins')
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const before = await stat(path)
    await new Promise((r) => setTimeout(r, 50))
    const r = await d.cli(['index', 'refresh'])
    assert.match(r.stdout, /pins: \d+ rows unchanged/)
    assert.equal((await stat(path)).mtimeMs, before.mtimeMs)
    const checked = JSON.parse(
      await readFile(join(d.kitPath, 'pin_metadata', 'pins_checked.json'), 'utf8'),
    ) as {
      checked_at: string
      interval_s: number
    }
    assert.ok(Date.parse(checked.checked_at) > before.mtimeMs)
    // The interval of this run (--interval 3600), not the default 30 s: readers judge staleness by it.
    assert.equal(checked.interval_s, 3600)
  })

  it('opens in DuckDB with the same rows', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    const path = indexFilePath(d.kitPath, 'pins').replaceAll("'", "''")
    const result = await conn.runAndReadAll(
      `SELECT cid, type, name FROM read_parquet('${path}') ORDER BY cid`,
    )
    // A pin without a name has '' in the file (a required column: see README, "Where things are").
    const rows = (result.getRowObjectsJson() as unknown as Pin[]).map((r) => ({ ...r, name: r.name || null }))
    assert.ok((result.getRowObjectsJson() as unknown as Pin[]).every((r) => r.name !== null))
    assert.deepEqual(rows, await kuboPins())
    conn.closeSync()
  })

  // Hostile and broken files are in hostile-files.test.ts; this is the one accepted with a warning.
  describe('an index the manager has not confirmed for long', () => {
    let saved: string
    before(async () => {
      assert.equal((await d.cli(['index', 'stop'])).code, 0)
      saved = join(await makeTempDir('saved'), 'pins.parquet')
      await copyFile(indexFilePath(d.kitPath, 'pins'), saved)
    })
    after(async () => {
      await copyFile(saved, indexFilePath(d.kitPath, 'pins'))
      await d.cli(['index', 'start'])
    })

    async function writeFake(options: { peer?: string; cids?: string[]; generatedAt?: Date }) {
      const cids = options.cids ?? (await kuboPins()).map((p) => p.cid)
      await writePinsFile(indexFilePath(d.kitPath, 'pins'), {
        peerId: options.peer ?? peerId,
        cids,
        ...(options.generatedAt ? { generatedAt: options.generatedAt } : {}),
      })
    }

    it('flags an index older than three intervals as stale, and still uses it', async () => {
      await writeFake({ generatedAt: new Date(Date.now() - 4 * 3600 * 1000) })
      const { json, stderr } = await list(['--limit', '1'])
      assert.equal(json.source, 'index')
      assert.equal(json.stale, true)
      assert.match(stderr, /the index is stale: last confirmed 4 h ago/)
    })
  })

  it('exits 1 with a way forward when neither the index nor Kubo can answer', async () => {
    const lone = await daemonEnv()
    const r = await lone.cli(['pin', 'list'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /cannot list pins: the index is not usable .* and Kubo's RPC API is not either/)
    assert.match(r.stderr, /ipfs-kit daemon start/)
  })
})
