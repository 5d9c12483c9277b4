// State history on a real node: each index cycle adds one row per kind, in time order, in the
// day folders; the newest row is the snapshot `state` shows; retention prunes; a manager restart
// keeps the history; a part that is not this node's, or lies about its day, is refused with its
// reason while the others still answer; bad times exit 2.
import assert from 'node:assert/strict'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { parseTimeArg } from '../src/cli/format.js'
import { DayLogWriter } from '../src/indexer/day-log.js'
import { growthOf, recentPins, slope } from '../src/status/growth.js'
import { openContent } from '../src/store/content.js'
import { CONTENT_META } from '../src/store/content-format.js'
import { writeContentFile } from '../src/store/content-writer.js'
import {
  DAY_LOG_COLUMNS,
  dayLogDir,
  dayLogPartPath,
  dayOf,
  PINS_META,
  pinSubsetPath,
} from '../src/store/layout.js'
import { openIndexFile } from '../src/store/reader.js'
import { writeTypedFile } from '../src/store/state-writer.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { rawContentRow, writePinsFile } from './helpers/index-files.js'
import { makeTempDir } from './helpers/kubo.js'

const OTHER_PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

interface HistoryJson {
  kind: string
  source: string
  since: string | null
  until: string | null
  rows: Array<Record<string, unknown>>
  refused: Array<{ path: string; reason: string }>
}

let d: DaemonEnv

async function history(kind: string, ...args: string[]): Promise<HistoryJson> {
  const r = await d.cli(['state', 'history', kind, '--json', ...args])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as HistoryJson
}

/** recentPins over the pins.parquet and content.parquet of this folder. */
async function recentOf(kitPath: string, peerId: string, now: number) {
  const pins = await openIndexFile(join(kitPath, 'pin_metadata/parquet_storage/pins.parquet'), 'pins', peerId)
  const content = await openContent(kitPath, peerId)
  try {
    return await recentPins(kitPath, peerId, pins, content, now)
  } finally {
    await pins.close()
    await content?.close()
  }
}

const times = (h: HistoryJson) => h.rows.map((r) => Date.parse(r.collected_at as string))

before(async () => {
  d = await daemonEnv()
  const start = await d.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  for (let i = 0; i < 3; i++) assert.equal((await d.cli(['index', 'refresh'])).code, 0)
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

describe('state history', () => {
  it('adds one row per kind each cycle, in time order, the newest being the snapshot', async () => {
    const status = await d.status()
    const cycles = status.index.cycles as number
    assert.ok(cycles >= 4, `cycles ${cycles}`)
    for (const kind of ['system', 'network', 'storage', 'files']) {
      const h = await history(kind)
      assert.equal(h.kind, kind)
      assert.equal(h.source, 'index')
      assert.deepEqual(h.refused, [])
      // One row per cycle (a cycle whose collector failed would add none: none failed here).
      assert.equal(h.rows.length, cycles, kind)
      const t = times(h)
      for (let i = 1; i < t.length; i++)
        assert.ok((t[i] as number) > (t[i - 1] as number), `${kind} row ${i} in order`)
      const columns = (
        kind === 'network'
          ? DAY_LOG_COLUMNS.history_network
          : DAY_LOG_COLUMNS[`history_${kind}` as 'history_system']
      ).map((c) => c.name)
      assert.deepEqual(Object.keys(h.rows[0] as object).sort(), [...columns].sort())
    }
    // The newest storage and files rows are the snapshots (same cycle, same values).
    for (const kind of ['storage', 'files']) {
      const snap = JSON.parse((await d.cli(['state', kind, '--json'])).stdout) as {
        values: Record<string, unknown>
      }
      const last = (await history(kind)).rows.at(-1) as Record<string, unknown>
      assert.deepEqual(last, snap.values, kind)
    }
    // The network row summarises the peers of the snapshot: this node is alone.
    const net = (await history('network')).rows.at(-1) as Record<string, unknown>
    assert.equal(net.online, true)
    assert.equal(net.peer_count, 0)
    assert.equal(net.peers_inbound, 0)
    assert.equal(net.peers_outbound, 0)
    assert.equal(net.latency_median_ms, null)
    // The files land in the Hive layout, one folder per UTC day.
    const days = await readdir(dayLogDir(d.kitPath, 'history_storage'))
    assert.ok(
      days.every((x) => /^day=\d{4}-\d{2}-\d{2}$/.test(x)),
      days.join(),
    )
    assert.ok(days.includes(`day=${dayOf(Date.now())}`) || days.includes(`day=${dayOf(Date.now() - 60_000)}`))
  })

  it('--since and --until select rows by time; the text table has a row per cycle', async () => {
    const all = await history('storage')
    const t = times(all)
    const mid = new Date(((t[1] as number) + (t[2] as number)) / 2).toISOString()
    const since = await history('storage', '--since', mid)
    assert.deepEqual(times(since), t.slice(2))
    assert.equal(since.since, mid)
    const until = await history('storage', '--until', mid)
    assert.deepEqual(times(until), t.slice(0, 2))
    assert.equal((await history('storage', '--since', '1h')).rows.length, t.length)
    assert.equal((await history('storage', '--until', '1h')).rows.length, 0)
    const text = await d.cli(['state', 'history', 'storage'])
    assert.equal(text.code, 0, text.stderr)
    const lines = text.stdout.trim().split('\n')
    assert.match(lines[0] as string, /^collected_at\s+repo_size_bytes/)
    assert.equal(lines.length, t.length + 1)
  })

  it('bad input exits 2 with a clear message', async () => {
    for (const args of [
      ['state', 'history', 'storage', '--since', 'yesterday-ish'],
      ['state', 'history', 'storage', '--since', '-5m'],
      ['state', 'history', 'storage', '--until', '5 minutes'],
      ['state', 'history', 'storage', '--since', '1h', '--until', '2h'],
      ['state', 'history', 'weather'],
      ['state', 'history'],
      ['state', 'storage', '--since', '1h'],
    ]) {
      const r = await d.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /ipfs-kit: /, args.join(' '))
      assert.equal(r.stdout, '', args.join(' '))
    }
  })

  it('a part of another node, or one that lies about its day, is refused with its reason; the rest still answers', async () => {
    const before = await history('system')
    const yesterday = dayOf(Date.now() - 86_400_000)
    const at = new Date(Date.parse(`${yesterday}T12:00:00Z`))
    const row = Object.fromEntries(DAY_LOG_COLUMNS.history_system.map((c) => [c.name, null])) as Record<
      string,
      unknown
    >
    row.collected_at = at
    const write = (path: string, peerId: string, day: string) =>
      writeTypedFile(
        path,
        'history_system',
        DAY_LOG_COLUMNS.history_system,
        { writer: 'ipfs-kit 0.1.0', peerId, kuboVersion: null, generatedAt: at },
        [row as never],
        {},
        { 'ipfs_kit.day': day, 'ipfs_kit.first_at': at.toISOString(), 'ipfs_kit.last_at': at.toISOString() },
      )
    const foreign = dayLogPartPath(d.kitPath, 'history_system', yesterday, 0)
    await mkdir(join(foreign, '..'), { recursive: true })
    await write(foreign, OTHER_PEER, yesterday)
    const peerId = (await d.status()).kubo.peer_id as string
    const lying = dayLogPartPath(d.kitPath, 'history_system', yesterday, 1)
    await write(lying, peerId, dayOf(Date.now()))
    const r = await d.cli(['state', 'history', 'system', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const h = JSON.parse(r.stdout) as HistoryJson
    assert.deepEqual(times(h), times(before), 'only the true rows')
    const reasons = Object.fromEntries(h.refused.map((x) => [x.path, x.reason]))
    assert.match(reasons[foreign] ?? '', new RegExp(OTHER_PEER))
    assert.match(reasons[lying] ?? '', /holds day .* folder of/)
    assert.match(r.stderr, /refused .*part-0000\.parquet/)
    // A range that touches only the refused parts: nothing to give, so exit 1.
    const only = await d.cli(['state', 'history', 'system', '--until', `${dayOf(Date.now())}`])
    assert.equal(only.code, 1, only.stderr)
  })

  it('a manager restart keeps the history and appends to it', async () => {
    const kept = times(await history('network'))
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const t = times(await history('network'))
    assert.deepEqual(t.slice(0, kept.length), kept)
    assert.ok(t.length >= kept.length + 2, `${t.length} rows after ${kept.length}`)
    for (let i = 1; i < t.length; i++) assert.ok((t[i] as number) > (t[i - 1] as number))
  })
})

describe('history retention', () => {
  it('rows older than history.retention_days are removed each cycle', async () => {
    // 0.0001 days: 8.64 s.
    const e = await daemonEnv({ extra: { IPFS_KIT_HISTORY_RETENTION_DAYS: '0.0001' } })
    assert.equal((await e.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    try {
      assert.equal((await e.cli(['index', 'refresh'])).code, 0)
      const read = async () => {
        const r = await e.cli(['state', 'history', 'files', '--json'])
        assert.equal(r.code, 0, r.stderr)
        return (JSON.parse(r.stdout) as HistoryJson).rows.map((x) => Date.parse(x.collected_at as string))
      }
      const first = await read()
      assert.ok(first.length >= 2)
      await new Promise((r) => setTimeout(r, 9_500))
      assert.equal((await e.cli(['index', 'refresh'])).code, 0)
      const later = await read()
      assert.equal(later.length, 1, 'only the newest row is within the retention')
      assert.ok((later[0] as number) > Math.max(...first))
    } finally {
      await e.cli(['daemon', 'stop'])
    }
  })
})

describe('parseTimeArg', () => {
  it('reads durations before now and ISO times, and nothing else', () => {
    const now = Date.parse('2026-12-02T12:00:00Z')
    assert.equal(parseTimeArg('90m', now)?.toISOString(), '2026-12-02T10:30:00.000Z')
    assert.equal(parseTimeArg('1d12h', now)?.toISOString(), '2026-12-01T00:00:00.000Z')
    assert.equal(parseTimeArg('2w', now)?.toISOString(), '2026-11-18T12:00:00.000Z')
    assert.equal(parseTimeArg('2026-12-01', now)?.toISOString(), '2026-12-01T00:00:00.000Z')
    assert.equal(parseTimeArg('2026-12-01T08:00:00+02:00', now)?.toISOString(), '2026-12-01T06:00:00.000Z')
    for (const bad of ['yesterday-ish', '-5m', '5', 'June 5', '5 m', '', '2026-13-45', 'm5'])
      assert.equal(parseTimeArg(bad, now), null, bad)
  })
})

describe('storage analytics', () => {
  const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

  it('the slope of an exact line is its rate', () => {
    const pts = [0, 1, 2, 5, 9].map((h) => ({ t: h * 3_600_000, v: 1000 + h * 7 }))
    assert.equal(Math.round((slope(pts) as number) * 3_600_000), 7)
    assert.equal(slope([{ t: 5, v: 1 }]), null)
    assert.equal(
      slope([
        { t: 5, v: 1 },
        { t: 5, v: 2 },
      ]),
      null,
    )
  })

  it('growth per day and week and days until full come from the storage history, or say what they need', async () => {
    const kitPath = await makeTempDir('growth')
    const now = Date.parse('2026-12-02T12:00:00Z')
    const writer = new DayLogWriter({
      kitPath,
      kind: 'history_storage',
      writer: 'ipfs-kit 0.1.0',
      log: quiet,
      retentionMs: () => 30 * 86_400_000,
      now: () => now,
    })
    const ctx = { peerId: PEER, kuboVersion: '0.43.1' }
    const row = (t: number, size: number) => ({
      ...Object.fromEntries(DAY_LOG_COLUMNS.history_storage.map((c) => [c.name, null])),
      collected_at: new Date(t),
      repo_size_bytes: size,
      storage_max_bytes: 10e9,
    })
    // Only 30 minutes of history: no rate yet.
    await writer.append(ctx, [row(now - 1_800_000, 1e9), row(now - 60_000, 1e9 + 1e5)])
    let g = await growthOf(kitPath, PEER, { repoSize: 1e9, storageMax: 10e9 }, now)
    assert.equal(g.growth_bytes_per_day, null)
    assert.match(g.reasons.growth_bytes_per_day ?? '', /needs 60 min .* spans 29 min \(2 rows\)/)
    assert.equal(g.days_until_full, null)
    // Three days of hourly rows growing 5 MB a day.
    const kit2 = await makeTempDir('growth')
    const w2 = new DayLogWriter({
      kitPath: kit2,
      kind: 'history_storage',
      writer: 'ipfs-kit 0.1.0',
      log: quiet,
      retentionMs: () => 30 * 86_400_000,
      now: () => now,
    })
    const rows = []
    for (let h = 72; h >= 0; h--) rows.push(row(now - h * 3_600_000, 2e9 + ((72 - h) / 24) * 5e6))
    await w2.append(ctx, rows)
    g = await growthOf(kit2, PEER, { repoSize: 2e9 + 15e6, storageMax: 10e9 }, now)
    assert.equal(g.growth_bytes_per_day, 5e6)
    assert.equal(g.growth_bytes_per_week, 35e6)
    assert.equal(g.days_until_full, Number(((10e9 - 2e9 - 15e6) / 5e6).toFixed(1)))
    assert.equal(g.growth_basis.rows, 73)
    // Not growing: no time to full, and why.
    g = await growthOf(kit2, PEER, { repoSize: 2e9, storageMax: 10e9 }, now + 8 * 86_400_000)
    assert.match(g.reasons.growth_bytes_per_week ?? '', /needs 1440 min/)
  })

  it('the pins added in the last day: still pinned, first seen in that day, their bytes once all are examined', async () => {
    const kitPath = await makeTempDir('recent')
    const now = Date.now()
    const cid = (i: number) => CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32).fill(i))).toString()
    const [a, b, old, gone, before] = [cid(1), cid(2), cid(3), cid(4), cid(5)]
    const pinned = [a, b, old, before].sort()
    const seen: Record<string, number> = {
      [a]: now - 2 * 3_600_000,
      [b]: now - 3 * 3_600_000,
      // Added again today by its event, but pinned since before (a first_seen of three days ago).
      [old]: now - 3 * 86_400_000,
      [before]: now - 2 * 86_400_000,
    }
    await writePinsFile(join(kitPath, 'pin_metadata/parquet_storage/pins.parquet'), {
      peerId: PEER,
      cids: pinned,
      firstSeen: pinned.map((c) => new Date(seen[c] as number)),
    })
    const events = new DayLogWriter({
      kitPath,
      kind: 'pin_events',
      writer: 'ipfs-kit 0.1.0',
      log: quiet,
      retentionMs: () => 30 * 86_400_000,
      now: () => now,
    })
    const event = (c: string, at: number) => ({
      at: new Date(at),
      cid: c,
      event: 'added',
      type: 'recursive',
      name: null,
      source: 'ipfs-kit',
    })
    await events.append({ peerId: PEER, kuboVersion: '0.43.1' }, [
      event(before, now - 2 * 86_400_000),
      event(b, now - 3 * 3_600_000),
      event(a, now - 2 * 3_600_000),
      event(old, now - 3_600_000),
      // Added an hour ago, unpinned since: not in pins.parquet.
      event(gone, now - 3_600_000),
    ])
    const contentRow = (c: string, size: number) => rawContentRow(c, size, new Date(now))
    const header = {
      writer: 'ipfs-kit 0.1.0',
      peerId: PEER,
      kuboVersion: '0.43.1',
      generatedAt: new Date(now),
    }
    const recent = () => recentOf(kitPath, PEER, now)
    await writeContentFile(kitPath, header, [contentRow(a, 1000), contentRow(old, 7)], null)
    let r = await recent()
    assert.equal(r.pins_added_last_day, 2)
    assert.equal(r.pins_added_last_day_bytes, null)
    assert.match(r.reasons.pins_added_last_day_bytes ?? '', /^1 of them not examined yet/)
    await writeContentFile(
      kitPath,
      header,
      [contentRow(a, 1000), contentRow(b, 500), contentRow(old, 7)].sort((x, y) => (x.cid < y.cid ? -1 : 1)),
      null,
    )
    r = await recent()
    assert.equal(r.pins_added_last_day, 2)
    assert.equal(r.pins_added_last_day_bytes, 1500)
  })

  it("the last day's pins from the files' footers: the window applied, sizes listed or else looked up; no usable list: the events; a lying list refused", async () => {
    const kitPath = await makeTempDir('recent-footers')
    const now = Date.now()
    const cid = (i: number) => CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32).fill(i))).toString()
    const [a, b, c, old] = [cid(11), cid(12), cid(13), cid(14)]
    const pinned = [a, b, c, old].sort()
    const pinsPath = join(kitPath, 'pin_metadata/parquet_storage/pins.parquet')
    const header = {
      writer: 'ipfs-kit 0.1.0',
      peerId: PEER,
      kuboVersion: '0.43.1',
      generatedAt: new Date(now),
    }
    const rows = [
      rawContentRow(a, 1000, new Date(now)),
      rawContentRow(b, 500, new Date(now)),
      rawContentRow(c, 7, new Date(now)),
    ]
    rows.sort((x, y) => (x.cid < y.cid ? -1 : 1))
    const pinset = 'a'.repeat(64)
    const recent = async (pinsKv: unknown, sizesKv: unknown = { [a]: 1000, [b]: 500 }) => {
      const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))
      await writePinsFile(pinsPath, {
        peerId: PEER,
        cids: pinned,
        extra: { [PINS_META.recentPins]: text(pinsKv), [PINS_META.pinsetSha256]: pinset },
      })
      await writeContentFile(kitPath, header, rows, null, { [CONTENT_META.recentSizes]: text(sizesKv) })
      return recentOf(kitPath, PEER, now)
    }
    const from = new Date(now - 86_400_000 - 60_000).toISOString()
    const list: Array<[string, number]> = [
      // First seen after the list's start, but more than a day before now: out of the window.
      [old, now - 86_400_000 - 30_000],
      [a, now - 3_600_000],
      [b, now - 60_000],
      [c, now - 1000],
    ]
    // No pin event is written here: only the lists can name these pins. c's size is looked up.
    let r = await recent({ from, pins: list, count: 4 })
    assert.equal(r.pins_added_last_day, 3)
    assert.equal(r.pins_added_last_day_bytes, 1507)
    // A size the footer lists as unknown (an incomplete DAG) is unknown.
    r = await recent({ from, pins: list, count: 4 }, { [a]: null, [b]: 500 })
    assert.equal(r.pins_added_last_day_bytes, null)
    assert.match(r.reasons.pins_added_last_day_bytes ?? '', /^1 of them not examined yet/)
    // Too many to list, or a list that starts inside the window: the pin events (none here).
    for (const kv of [
      { from, pins: null, count: 1001 },
      { from: new Date(now - 3_600_000).toISOString(), pins: list.slice(2), count: 2 },
    ]) {
      r = await recent(kv)
      assert.equal(r.pins_added_last_day, 0, JSON.stringify(kv))
    }
    // Too many to list, and pins_recent.parquet of this pinset covers the day: its rows say which
    // (first seen exactly, in the window; a CID pinned both ways once). Of another pinset, or with
    // a window that starts inside the day, or damaged: not used (the events, none here).
    const seenAt = new Map(list)
    const recentRows = [
      ...list.map(([cid]) => ({ cid, type: 'recursive', exact: true })),
      { cid: a, type: 'direct', exact: true },
      // In the subset's week but first seen at the baseline: not added.
      { cid: cid(15), type: 'recursive', exact: false },
    ].sort((x, y) => (x.cid < y.cid ? -1 : x.cid > y.cid ? 1 : x.type < y.type ? -1 : 1))
    const plantRecent = (o: { pinset?: string; from?: number; bytes?: Buffer }) =>
      o.bytes
        ? writeFile(pinSubsetPath(kitPath, 'pins_recent'), o.bytes)
        : writePinsFile(pinSubsetPath(kitPath, 'pins_recent'), {
            kind: 'pins_recent',
            peerId: PEER,
            cids: recentRows.map((x) => x.cid),
            types: recentRows.map((x) => x.type),
            firstSeen: recentRows.map((x) => new Date(seenAt.get(x.cid) ?? now - 3_600_000)),
            firstSeenExact: recentRows.map((x) => x.exact),
            extra: {
              [PINS_META.pinsetSha256]: o.pinset ?? pinset,
              [PINS_META.recentFrom]: new Date(o.from ?? now - 7 * 86_400_000).toISOString(),
            },
          })
    await plantRecent({})
    r = await recent({ from, pins: null, count: 1001 })
    assert.equal(r.pins_added_last_day, 3)
    assert.equal(r.pins_added_last_day_bytes, 1507)
    for (const o of [
      { pinset: 'b'.repeat(64) },
      { from: now - 3_600_000 },
      { bytes: Buffer.from('PAR1 not a file') },
    ]) {
      await plantRecent(o)
      r = await recent({ from, pins: null, count: 1001 })
      assert.equal(r.pins_added_last_day, 0, JSON.stringify(o))
    }
    await rm(pinSubsetPath(kitPath, 'pins_recent'))
    // Lists that are not what the manager writes are refused with their reason.
    for (const [pinsKv, sizesKv, why] of [
      ['{not json', undefined, /recent_pins is not valid JSON/],
      [{ from: 'yesterday', pins: list, count: 4 }, undefined, /no valid window start/],
      [{ from, pins: list, count: 5 }, undefined, /does not list as many pins as it counts/],
      [{ from, pins: null, count: 3 }, undefined, /lists no pins for a count of 3/],
      [{ from, pins: [...list.slice(1), [a, now]], count: 4 }, undefined, /invalid entry/],
      [{ from, pins: [['bafynotacid', now]], count: 1 }, undefined, /invalid CID/],
      [{ from, pins: list, count: 4 }, { [a]: -5 }, /recent_sizes holds an impossible size/],
      [{ from, pins: list, count: 4 }, [1000], /recent_sizes is not an object/],
    ] as Array<[unknown, unknown, RegExp]>)
      await assert.rejects(recent(pinsKv, sizesKv), why)
  })

  it('storage report on a node that just started: growth null with its reason, the pins added today counted', async () => {
    const r = await d.cli(['storage', 'report', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const s = JSON.parse(r.stdout) as Record<string, unknown> & { reasons: Record<string, string> }
    assert.equal(s.growth_bytes_per_day, null)
    assert.match(s.reasons.growth_bytes_per_day as string, /needs 60 min of storage history/)
    assert.equal(s.days_until_full, null)
    assert.match(s.reasons.days_until_full as string, /needs the growth rate/)
    // No pin was added after the first index here: the baseline is no event.
    assert.equal(s.pins_added_last_day, 0)
  })
})

describe('ipfs-kit sql', () => {
  it('queries DuckDB views of the checked files; a refused part is left out with its reason; a bad query exits 2', async () => {
    const sql = async (q: string) => {
      const r = await d.cli(['sql', q, '--json'])
      assert.equal(r.code, 0, r.stderr)
      return JSON.parse(r.stdout) as {
        columns: string[]
        rows: Array<Record<string, unknown>>
        left_out: Array<{ view: string; reason: string }>
      }
    }
    // The same rows as `state history system` (the foreign and the lying part are left out).
    const h = await history('system')
    const counted = await sql('SELECT count(*) AS n, min(collected_at) AS first FROM history_system')
    assert.equal(Number(counted.rows[0]?.n), h.rows.length)
    assert.deepEqual(
      counted.left_out.filter((l) => l.view === 'history_system').length,
      2,
      JSON.stringify(counted.left_out),
    )
    assert.ok(counted.left_out.some((l) => new RegExp(OTHER_PEER).test(l.reason)))
    // Every view joins: the newest storage row is the snapshot's repo size; the day column comes from the folders.
    const snap = JSON.parse((await d.cli(['state', 'storage', '--json'])).stdout) as {
      values: { repo_size_bytes: number }
    }
    const last = await sql(
      'SELECT s.repo_size_bytes AS latest, h.day FROM storage_state s, (SELECT * FROM history_storage ORDER BY collected_at DESC LIMIT 1) h',
    )
    assert.equal(Number(last.rows[0]?.latest), snap.values.repo_size_bytes)
    assert.match(String(last.rows[0]?.day), /^\d{4}-\d{2}-\d{2}$/)
    const pins = await sql('SELECT cid, first_seen_exact FROM pins ORDER BY cid')
    const listed = JSON.parse((await d.cli(['pin', 'list', '--json', '--limit', '0'])).stdout) as {
      pins: Array<{ cid: string; first_seen_exact: boolean }>
    }
    // first_seen_exact is stored as 0/1 (pins-format.ts); the view shows it as the boolean it is.
    assert.deepEqual(
      pins.rows.map((r) => [r.cid, r.first_seen_exact]),
      listed.pins.map((p) => [p.cid, p.first_seen_exact]),
    )
    assert.deepEqual(
      pins.rows.map((r) => r.cid),
      listed.pins.map((p) => p.cid),
    )
    const csv = await d.cli(['sql', "SELECT 1 AS a, 'x,y' AS b", '--csv'])
    assert.equal(csv.stdout, 'a,b\n1,"x,y"\n')
    for (const args of [
      ['sql', 'SELEC nothing'],
      ['sql', 'SELECT * FROM nosuch'],
      ['sql'],
      ['sql', '  '],
      // Confined to the checked copies: no other file is read or written.
      ['sql', "SELECT * FROM read_csv('/etc/passwd')"],
      ['sql', `COPY (SELECT 1) TO '${join(d.kitPath, 'written-by-sql.csv')}'`],
    ]) {
      const r = await d.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /ipfs-kit: /)
    }
    assert.equal(await readdir(d.kitPath).then((names) => names.includes('written-by-sql.csv')), false)
  })
})
