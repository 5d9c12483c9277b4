// Pin events and first_seen on a real node: the pins there at the first index are its baseline
// (first_seen not exact, no events); a pin made or removed with plain `ipfs pin` becomes an
// `added` / `removed` event of the next cycle; one made through ipfs-kit is recorded at once (and
// not again by the cycle); `pin list --since/--before` select by first_seen; a manager restart
// keeps first_seen and the events; bad input exits 2.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { indexFilePath, PINS_META, pinSubsetPath } from '../src/store/layout.js'
import { queryPinFile } from '../src/store/pins.js'
import { PINS_SCHEMA_VERSION } from '../src/store/pins-format.js'
import { openIndexFile } from '../src/store/reader.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { writePinsFile } from './helpers/index-files.js'
import { initTestRepo, makeTempDir } from './helpers/kubo.js'

interface Pin {
  cid: string
  type: string
  name: string | null
  first_seen: string | null
  first_seen_exact: boolean | null
}
interface PinEvent {
  at: string
  cid: string
  event: string
  type: string
  name: string | null
  source: string
}

let d: DaemonEnv
let bin: string
let dir: string
/** The pins made before the first index (mine; `ipfs init` pins the empty folder too). */
const baseline: string[] = []
const preexisting: string[] = []
let startedAt: number
let indexedAt: number

async function ipfs(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(bin, args, { ipfsPath: d.ipfsPath, timeoutMs: 120_000 })
}
async function pins(...args: string[]): Promise<Pin[]> {
  const r = await d.cli(['pin', 'list', '--json', '--limit', '0', ...args])
  assert.equal(r.code, 0, r.stderr)
  const json = JSON.parse(r.stdout) as { source: string; pins: Pin[] }
  assert.equal(json.source, 'index')
  return json.pins
}
async function events(...args: string[]): Promise<PinEvent[]> {
  const r = await d.cli(['pin', 'events', '--json', '--limit', '0', ...args])
  assert.equal(r.code, 0, r.stderr)
  const json = JSON.parse(r.stdout) as { source: string; events: PinEvent[]; refused: unknown[] }
  assert.equal(json.source, 'index')
  assert.deepEqual(json.refused, [])
  return json.events
}
let fileNo = 0
/** A new file's CID, added to the repository without a pin. */
async function unpinned(): Promise<string> {
  const path = join(dir, `file-${++fileNo}`)
  await writeFile(path, `pin-events file ${fileNo} ${'x'.repeat(fileNo * 100)}`)
  return (await ipfs(['add', '-Q', '--pin=false', path])).trim()
}
const between = (iso: string | null, lo: number, hi: number) =>
  iso !== null && Date.parse(iso) >= lo && Date.parse(iso) <= hi

before(async () => {
  const repo = await initTestRepo()
  bin = repo.bin
  d = await daemonEnv({ ipfsPath: repo.ipfsPath })
  dir = await makeTempDir('pin-events')
  for (let i = 0; i < 3; i++) {
    const cid = await unpinned()
    await ipfs(['pin', 'add', cid])
    baseline.push(cid)
  }
  for (const type of ['recursive', 'direct'])
    preexisting.push(
      ...(await ipfs(['pin', 'ls', `--type=${type}`, '-q'])).trim().split('\n').filter(Boolean),
    )
  assert.ok(baseline.every((c) => preexisting.includes(c)))
  startedAt = Date.now()
  const start = await d.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  indexedAt = Date.now()
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

describe('pin events and first_seen', () => {
  it('the first index is the baseline: first_seen is that index, not exact, and no events', async () => {
    const listed = await pins()
    assert.deepEqual(listed.map((p) => p.cid).sort(), [...preexisting].sort())
    for (const p of listed) {
      assert.equal(p.first_seen_exact, false, p.cid)
      assert.ok(between(p.first_seen, startedAt, indexedAt), `${p.first_seen} within the first index`)
    }
    assert.deepEqual(await events(), [])
  })

  it('a plain `ipfs pin add` and `ipfs pin rm` become events of the next cycle', async () => {
    const cid = await unpinned()
    const t0 = Date.now()
    await ipfs(['pin', 'add', '--name', 'plain', cid])
    await ipfs(['pin', 'rm', baseline[0] as string])
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const t1 = Date.now()
    const ev = await events()
    assert.equal(ev.length, 2, JSON.stringify(ev))
    const added = ev.find((e) => e.event === 'added') as PinEvent
    const removed = ev.find((e) => e.event === 'removed') as PinEvent
    assert.deepEqual(
      { cid: added.cid, type: added.type, name: added.name, source: added.source },
      { cid, type: 'recursive', name: 'plain', source: 'cycle' },
    )
    assert.ok(between(added.at, t0, t1), added.at)
    assert.deepEqual(
      { cid: removed.cid, type: removed.type, source: removed.source },
      { cid: baseline[0], type: 'recursive', source: 'cycle' },
    )
    const [row] = await pins('--cid', cid)
    assert.equal(row?.first_seen, added.at)
    assert.equal(row?.first_seen_exact, true)
    // An unchanged cycle records nothing more and keeps every first_seen.
    const kept = await pins()
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.equal((await events()).length, 2)
    assert.deepEqual(await pins(), kept)
  })

  it('a change through ipfs-kit is an event at once, and the cycle does not record it again', async () => {
    const cid = await unpinned()
    const t0 = Date.now()
    const add = await d.cli(['pin', 'add', cid, '--name', 'via-kit'])
    assert.equal(add.code, 0, add.stderr)
    const t1 = Date.now()
    const [ev] = await events('--cid', cid)
    assert.ok(ev, 'recorded before any cycle')
    assert.deepEqual(
      { event: ev.event, type: ev.type, name: ev.name, source: ev.source },
      { event: 'added', type: 'recursive', name: 'via-kit', source: 'ipfs-kit' },
    )
    assert.ok(between(ev.at, t0, t1), ev.at)
    // pin list shows it from the delta with that time, and again after the cycle folds it in.
    assert.equal((await pins('--cid', cid))[0]?.first_seen, ev.at)
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.equal((await events('--cid', cid)).length, 1)
    const [row] = await pins('--cid', cid)
    assert.equal(row?.first_seen, ev.at)
    assert.equal(row?.first_seen_exact, true)
    // Renaming through ipfs-kit is no new pin: no event, first_seen kept.
    assert.equal((await d.cli(['pin', 'add', cid, '--name', 'renamed'])).code, 0)
    assert.equal((await events('--cid', cid)).length, 1)
    assert.deepEqual(await pins('--cid', cid).then((p) => [p[0]?.name, p[0]?.first_seen]), ['renamed', ev.at])
    const rm = await d.cli(['pin', 'rm', cid])
    assert.equal(rm.code, 0, rm.stderr)
    const after = await events('--cid', cid)
    assert.deepEqual(
      after.map((e) => [e.event, e.source]),
      [
        ['added', 'ipfs-kit'],
        ['removed', 'ipfs-kit'],
      ],
    )
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.equal((await events('--cid', cid)).length, 2)
  })

  it('pin list --since and --before select by first_seen; pin events --since by time', async () => {
    const all = await pins()
    const times = [...new Set(all.map((p) => p.first_seen as string))].sort()
    assert.ok(times.length >= 2, 'baseline and a later pin')
    const cut = times[1] as string
    const since = await pins('--since', cut)
    const beforeCut = await pins('--before', cut)
    assert.deepEqual(
      since.map((p) => p.cid),
      all.filter((p) => (p.first_seen as string) >= cut).map((p) => p.cid),
    )
    assert.deepEqual(
      beforeCut.map((p) => p.cid),
      all.filter((p) => (p.first_seen as string) < cut).map((p) => p.cid),
    )
    assert.ok(since.length > 0 && beforeCut.length > 0)
    assert.deepEqual(await pins('--since', '1h'), all)
    assert.deepEqual(await pins('--before', '1h'), [])
    const ev = await events()
    assert.deepEqual(
      await events('--since', cut),
      ev.filter((e) => e.at >= cut),
    )
    const text = await d.cli(['pin', 'events'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^AT\s+EVENT\s+TYPE\s+CID\s+SOURCE\s+NAME/)
    assert.equal(text.stdout.trim().split('\n').length, ev.length + 1)
  })

  it('pins_recent.parquet holds the pins first seen in the last week; --since reads it when it is of this pinset and covers the time', async () => {
    const peerId = JSON.parse(await readFile(join(d.ipfsPath, 'config'), 'utf8')).Identity.PeerID as string
    const all = await pins()
    const exact = all.filter((p) => p.first_seen_exact)
    assert.ok(exact.length >= 1 && exact.length < all.length)
    const path = pinSubsetPath(d.kitPath, 'pins_recent')
    const base = await openIndexFile(indexFilePath(d.kitPath, 'pins'), 'pins', peerId)
    const subset = await openIndexFile(path, 'pins_recent', peerId)
    const rows: Pin[] = []
    for await (const row of queryPinFile(subset, {})) rows.push(row)
    const from = Date.parse(subset.header.kv[PINS_META.recentFrom] as string)
    const writtenAt = subset.header.generatedAt.getTime()
    const pinset = base.header.kv[PINS_META.pinsetSha256] as string
    assert.equal(subset.header.kv[PINS_META.pinsetSha256], pinset)
    await subset.close()
    await base.close()
    // Every pin first seen exactly (none of the baseline), as pins.parquet has it; its window a week.
    const pinFields = ({ cid, type, name, first_seen, first_seen_exact }: Pin) => ({
      cid,
      type,
      name,
      first_seen,
      first_seen_exact,
    })
    assert.deepEqual(rows, exact.map(pinFields))
    assert.ok(from <= writtenAt - 7 * 86_400_000 && from > writtenAt - 7 * 86_400_000 - 60_000)
    const cut = exact.map((p) => p.first_seen as string).sort()[0] as string
    const truth = all.filter((p) => (p.first_seen as string) >= cut)
    assert.deepEqual(await pins('--since', cut), truth)
    // Believed when it is of this pinset and its window covers the time: a planted empty one of this
    // pinset answers nothing; one of another pinset, one whose window starts after the time, or a
    // damaged one is not used (the pin events answer).
    const saved = await readFile(path)
    const plant = (o: { sha?: string; fromMs?: number; peer?: string; writer?: string }) =>
      writePinsFile(path, {
        kind: 'pins_recent',
        peerId: o.peer ?? peerId,
        ...(o.writer ? { writer: o.writer } : {}),
        cids: [],
        extra: {
          [PINS_META.pinsetSha256]: o.sha ?? pinset,
          [PINS_META.recentFrom]: new Date(o.fromMs ?? from).toISOString(),
        },
      })
    try {
      await plant({})
      assert.deepEqual(await pins('--since', cut), [])
      for (const o of [
        { sha: 'f'.repeat(64) },
        { fromMs: Date.parse(cut) + 1 },
        // Another node's, and a mock writer's, claiming this pinset.
        { peer: '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo' },
        { writer: 'mock-recent 1.0' },
      ]) {
        await plant(o)
        assert.deepEqual(await pins('--since', cut), truth, JSON.stringify(o))
      }
      const flipped = Buffer.from(saved)
      flipped[8] = (flipped[8] as number) ^ 1
      for (const damaged of [saved.subarray(0, saved.length - 100), flipped]) {
        await writeFile(path, damaged)
        assert.deepEqual(await pins('--since', cut), truth)
      }
    } finally {
      await writeFile(path, saved)
    }
    // Changes through ipfs-kit not yet in the files: a new pin is listed; a renamed baseline pin
    // keeps its first_seen (asked of pins.parquet, not of the subset that does not hold it).
    const cid = await unpinned()
    assert.equal((await d.cli(['pin', 'add', cid])).code, 0)
    const renamed = baseline[1] as string
    assert.equal((await d.cli(['pin', 'add', renamed, '--name', 'renamed-baseline'])).code, 0)
    const pending = await pins('--since', cut)
    assert.deepEqual(
      pending.map((p) => p.cid),
      [...truth.map((p) => p.cid), cid].sort(),
    )
    assert.equal((await pins('--cid', renamed))[0]?.first_seen_exact, false)
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.deepEqual(await pins('--since', cut), pending)
  })

  it('a manager restart keeps first_seen and the events; a pin made while it was down is found', async () => {
    const kept = await pins()
    const keptEvents = await events()
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    // Kubo is stopped with the manager: pin offline.
    const cid = await unpinned()
    const t0 = Date.now()
    await ipfs(['pin', 'add', cid])
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    const t1 = Date.now()
    const now = await pins()
    assert.deepEqual(
      now.filter((p) => p.cid !== cid),
      kept,
    )
    const ev = await events()
    assert.deepEqual(ev.slice(0, keptEvents.length), keptEvents)
    assert.deepEqual(
      ev.slice(keptEvents.length).map((e) => [e.cid, e.event, e.source]),
      [[cid, 'added', 'cycle']],
    )
    const row = now.find((p) => p.cid === cid)
    assert.ok(between(row?.first_seen ?? null, t0, t1))
  })

  it('a pins.parquet of the version before is read, and rewritten in this one with first_seen kept', async () => {
    const kept = await pins()
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    // The file as the build before wrote it: the same rows and metadata, first_seen_exact a BOOLEAN.
    const peerId = JSON.parse(await readFile(join(d.ipfsPath, 'config'), 'utf8')).Identity.PeerID as string
    const path = indexFilePath(d.kitPath, 'pins')
    const file = await openIndexFile(path, 'pins', peerId)
    const kv = file.header.kv
    await file.close()
    assert.equal(file.header.schemaVersion, PINS_SCHEMA_VERSION)
    await writePinsFile(path, {
      peerId,
      cids: kept.map((p) => p.cid),
      types: kept.map((p) => p.type),
      names: kept.map((p) => p.name),
      firstSeen: kept.map((p) => new Date(p.first_seen as string)),
      firstSeenExact: kept.map((p) => p.first_seen_exact as boolean),
      schemaVersion: 5,
      extra: Object.fromEntries(Object.values(PINS_META).map((k) => [k, kv[k] as string])),
    })
    // Read as it is (no manager runs), then rewritten by the manager's first listing, unchanged.
    assert.deepEqual(await pins(), kept)
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    assert.deepEqual(await pins(), kept)
    const rewritten = await openIndexFile(path, 'pins', peerId)
    await rewritten.close()
    assert.equal(rewritten.header.schemaVersion, PINS_SCHEMA_VERSION)
  })

  it('bad input exits 2', async () => {
    for (const args of [
      ['pin', 'events', '--since', 'yesterday-ish'],
      ['pin', 'events', '--since', '-5m'],
      ['pin', 'events', '--cid', 'notacid'],
      ['pin', 'events', '--limit', 'lots'],
      ['pin', 'events', '--since', '1h', '--until', '2h'],
      ['pin', 'list', '--since', 'yesterday-ish'],
      ['pin', 'list', '--before', '-5m'],
    ]) {
      const r = await d.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /ipfs-kit: /)
      assert.equal(r.stdout, '')
    }
  })
})
