// Fuzz: valid index files, mutated at random (bit flips, overwritten, zeroed, cut, duplicated,
// inserted and removed ranges) for IPFS_KIT_FUZZ_SECONDS (60 by default). Every mutant either is
// refused with a reason (IndexRejectedError) or reads back exactly the rows that were written:
// no other error, no hang, and never a CID, type, name or figure that was not in the original.
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { IndexRejectedError } from '../src/errors.js'
import { DayLogWriter } from '../src/indexer/day-log.js'
import {
  allClusterPins,
  clusterPeersOf,
  clusterPinsOf,
  clusterSummaryOf,
  openClusterPins,
} from '../src/store/cluster-pins.js'
import { type ClusterPinRow, summarizeClusterPins } from '../src/store/cluster-pins-format.js'
import { writeClusterPinsFile } from '../src/store/cluster-pins-writer.js'
import { allContent, contentOf, openContent } from '../src/store/content.js'
import type { ContentRow } from '../src/store/content-format.js'
import { writeContentFile } from '../src/store/content-writer.js'
import { readDayLogPart } from '../src/store/day-log.js'
import {
  clusterPinsPath,
  contentPath,
  dayLogPartPath,
  dayOf,
  indexFilePath,
  PINS_META,
  pinSubsetPath,
} from '../src/store/layout.js'
import { openRecentPins, type PinRow, queryPinFile } from '../src/store/pins.js'
import { PINS_SCHEMA_VERSION, PINS_SUBSET_SCHEMA_VERSION, pinsColumns } from '../src/store/pins-format.js'
import { checkIndexFile, openIndexFile } from '../src/store/reader.js'
import { readStateFile, type StateRow } from '../src/store/state.js'
import { writeStateFile } from '../src/store/state-writer.js'
import { columnsSource, writeIndexFileAtomic } from '../src/store/writer.js'
import { makeTempDir } from '../test/helpers/kubo.js'

const SECONDS = Number(process.env.IPFS_KIT_FUZZ_SECONDS ?? 60)
const PEER = '12D3KooWJ9c6EZs1KEJY8HADbZGWRTPnkpFq4hjbQ1WxDCiv2q4D'
const HANG_MS = 10_000

async function makePins(n: number): Promise<PinRow[]> {
  const rows: PinRow[] = []
  for (let i = 0; i < n; i++) {
    const digest = await sha256.digest(new TextEncoder().encode(`fuzz ${i}`))
    const cid = (i % 7 === 0 ? CID.createV0(digest) : CID.createV1(0x55, digest)).toString()
    rows.push({
      cid,
      type: i % 10 === 0 ? 'direct' : 'recursive',
      name: i % 13 === 0 ? `name #${i}` : null,
      first_seen: new Date(Date.UTC(2026, 10, 1 + (i % 3))).toISOString(),
      first_seen_exact: i % 3 !== 0,
    })
  }
  return rows.sort((a, b) => (a.cid < b.cid ? -1 : 1))
}

/**
 * A pins file (or subset) as the pin collector writes it (page index on cid), in small groups
 * and pages: 3 row groups of about 20 pages each for 1,200 pins, so that mutants hit page indexes too.
 */
function writePins(
  path: string,
  kind: 'pins' | 'pins_recent',
  rows: PinRow[],
  extra: Record<string, string> = {},
): Promise<number> {
  return writeIndexFileAtomic(
    path,
    {
      kind,
      schemaVersion: kind === 'pins' ? PINS_SCHEMA_VERSION : PINS_SUBSET_SCHEMA_VERSION,
      writer: 'ipfs-kit 0.1.0',
      peerId: PEER,
      kuboVersion: '0.43.1',
      generatedAt: new Date(),
      extra,
    },
    columnsSource(
      pinsColumns(
        rows.map((p) => p.cid),
        rows.map((p) => p.type),
        rows.map((p) => p.name),
        rows.map((p) => new Date(p.first_seen as string)),
        rows.map((p) => p.first_seen_exact as boolean),
      ),
      rows.length,
    ),
    { rowGroupSize: 400, pageSize: 1024 },
  )
}

type Mutation = (b: Buffer) => Buffer
const mutations: Array<[string, Mutation]> = [
  [
    'flip bits',
    (b) => {
      const out = Buffer.from(b)
      for (let k = randomInt(1, 9); k > 0; k--) {
        const i = randomInt(out.length)
        out[i] = (out[i] as number) ^ (1 << randomInt(8))
      }
      return out
    },
  ],
  [
    'overwrite a range with random bytes',
    (b) => {
      const out = Buffer.from(b)
      const at = randomInt(out.length)
      randomBytes(Math.min(randomInt(1, 64), out.length - at)).copy(out, at)
      return out
    },
  ],
  [
    'zero a range',
    (b) => {
      const out = Buffer.from(b)
      const at = randomInt(out.length)
      out.fill(0, at, Math.min(out.length, at + randomInt(1, 256)))
      return out
    },
  ],
  ['cut the end', (b) => b.subarray(0, randomInt(b.length))],
  ['cut the start', (b) => b.subarray(randomInt(1, b.length))],
  [
    'insert random bytes',
    (b) => {
      const at = randomInt(b.length)
      return Buffer.concat([b.subarray(0, at), randomBytes(randomInt(1, 32)), b.subarray(at)])
    },
  ],
  [
    'remove a range',
    (b) => {
      const at = randomInt(b.length)
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + randomInt(1, 64)))])
    },
  ],
  [
    'duplicate a range',
    (b) => {
      const at = randomInt(b.length)
      const piece = b.subarray(at, Math.min(b.length, at + randomInt(1, 200)))
      return Buffer.concat([b.subarray(0, at), piece, b.subarray(at)])
    },
  ],
  [
    'copy one range over another',
    (b) => {
      const out = Buffer.from(b)
      const from = randomInt(out.length)
      const to = randomInt(out.length)
      out.copy(out, to, from, Math.min(out.length, from + randomInt(1, 128)))
      return out
    },
  ],
]

function withTimeout<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} hung for ${HANG_MS} ms`)), HANG_MS)
    }),
  ])
}

/** Reads a pins file in full and by one CID; returns the rows, or 'rejected'. */
async function readPins(
  path: string,
  lookup: string,
): Promise<{ all: PinRow[]; one: PinRow[] } | 'rejected'> {
  try {
    const check = await checkIndexFile(path, 'pins', PEER)
    const file = await openIndexFile(path, 'pins', PEER)
    try {
      const all: PinRow[] = []
      for await (const row of queryPinFile(file, {})) all.push(row)
      const one: PinRow[] = []
      for await (const row of queryPinFile(file, { cids: [lookup] })) one.push(row)
      // A file the full check refused must not be answered from by a query either.
      assert.equal(
        check.status,
        'valid',
        `checkIndexFile refused it (${JSON.stringify(check)}) but queries did not`,
      )
      return { all, one }
    } finally {
      await file.close()
    }
  } catch (err) {
    if (err instanceof IndexRejectedError) return 'rejected'
    throw err
  }
}

describe(`fuzz: mutated index files for ${SECONDS} s`, () => {
  it('every mutant is refused, or reads back exactly what was written', async () => {
    const dir = await makeTempDir('fuzz')
    const pins = await makePins(1200)
    const pinsPath = join(dir, 'pins.parquet')
    await writePins(pinsPath, 'pins', pins)
    const statePath = indexFilePath(dir, 'storage')
    const stateRow: StateRow = {
      collected_at: new Date(),
      repo_path: '/srv/ipfs',
      repo_size_bytes: 123_456_789,
      storage_max_bytes: 10_000_000_000,
      num_objects: 4242,
      num_objects_at: new Date(),
      pins_recursive: 1080,
      pins_direct: 120,
    }
    await writeStateFile(
      statePath,
      'storage',
      { writer: 'ipfs-kit 0.1.0', peerId: PEER, kuboVersion: '0.43.1', generatedAt: new Date() },
      [stateRow],
      {},
    )
    // content.parquet, as the content collector writes it (page index on cid, small groups).
    const contentDir = join(dir, 'c')
    const contentRows: ContentRow[] = pins.map((p, i) => ({
      cid: p.cid,
      dag_size_bytes: i % 7 === 0 ? null : 1000 + i,
      blocks: i % 7 === 0 ? null : 1 + (i % 5),
      codec: 'raw',
      kind: i % 3 === 0 ? 'file' : 'raw',
      file_size_bytes: i % 3 === 0 ? 900 + i : null,
      mime: i % 2 === 0 ? 'text/plain' : null,
      complete: i % 7 !== 0,
      examined_at: new Date(1_700_000_000_000 + i),
      problem: i % 7 === 0 ? 'block was not found locally (offline)' : null,
    }))
    await writeContentFile(
      contentDir,
      { writer: 'ipfs-kit 0.1.0', peerId: PEER, kuboVersion: '0.43.1', generatedAt: new Date() },
      contentRows,
      'digest',
    )
    const validContent = await readFile(contentPath(contentDir))
    const contentMutantDir = join(dir, 'cm')
    await mkdir(join(contentMutantDir, 'pin_metadata', 'parquet_storage'), { recursive: true })
    // cluster_pins.parquet, as the cluster collector writes it (page index on every column, the
    // status counts and the peers in its footer), for a Cluster peer's identity.
    const clusterDir = join(dir, 'cl')
    const clusterRows: ClusterPinRow[] = pins.map((p, i) => ({
      cid: p.cid,
      name: p.name ?? '',
      type: 'pin',
      replication_min: i % 5 === 0 ? -1 : 1,
      replication_max: i % 5 === 0 ? -1 : 2,
      allocations: i % 5 === 0 ? [] : [PEER],
      peer_status:
        i % 9 === 0 ? null : { [PEER]: { status: i % 4 === 0 ? 'pinning' : 'pinned', timestamp: null } },
      status_at: i % 9 === 0 ? null : new Date(1_700_000_000_000 + i),
      metadata: (i % 2 === 0 ? { owner: `o${i}` } : {}) as Record<string, string>,
      timestamp: new Date(1_690_000_000_000 + i),
      expire_at: null,
    }))
    await writeClusterPinsFile(
      clusterDir,
      { writer: 'ipfs-kit 0.1.0', peerId: PEER, kuboVersion: '0.43.1', generatedAt: new Date() },
      clusterRows,
      {
        pinsetSha256: 'digest',
        ipfsPeerId: PEER,
        peername: 'p0',
        clusterVersion: '1.1.6',
        peers: [{ id: PEER, peername: 'p0', ipfs_peer_id: PEER, free_space_bytes: 1_000_000, error: null }],
        statusAt: new Date(),
        statusError: null,
      },
    )
    const validCluster = await readFile(clusterPinsPath(clusterDir))
    const clusterMutantDir = join(dir, 'clm')
    await mkdir(join(clusterMutantDir, 'pin_metadata', 'parquet_storage'), { recursive: true })
    const clusterSummary = (() => {
      const { by_peer, ...rest } = summarizeClusterPins(clusterRows)
      return { ...rest, by_peer }
    })()
    // A pin-events part (a day log), as the manager's DayLogWriter writes it.
    const eventsDir = join(dir, 'e')
    const day = dayOf(Date.now())
    const eventRows = pins.slice(0, 200).map((p, i) => ({
      at: new Date(Date.parse(`${day}T00:00:00Z`) + i * 1000),
      cid: p.cid,
      event: i % 4 === 0 ? 'removed' : 'added',
      type: p.type,
      name: p.name,
      source: i % 3 === 0 ? 'ipfs-kit' : 'cycle',
    }))
    const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
    await new DayLogWriter({
      kitPath: eventsDir,
      kind: 'pin_events',
      writer: 'ipfs-kit 0.1.0',
      log: quiet,
      retentionMs: () => 2 * 86_400_000,
    }).append({ peerId: PEER, kuboVersion: '0.43.1' }, eventRows)
    const eventsPart = { day, part: 0, path: dayLogPartPath(eventsDir, 'pin_events', day, 0) }
    const validEvents = await readFile(eventsPart.path)
    const eventsTruth = await readDayLogPart(eventsPart, 'pin_events', PEER)
    assert.equal(eventsTruth.length, eventRows.length)
    const validPins = await readFile(pinsPath)
    // pins_recent.parquet beside a pins.parquet of the same pinset, as the pin collector writes
    // them: the pins first seen exactly, and the window's start.
    const recentDir = join(dir, 'r')
    const recentRows = pins.filter((p) => p.first_seen_exact)
    const recentExtra = {
      [PINS_META.pinsetSha256]: 'digest',
      [PINS_META.deltaSeq]: '0',
      [PINS_META.recentFrom]: new Date(0).toISOString(),
    }
    await writePins(indexFilePath(recentDir, 'pins'), 'pins', pins, recentExtra)
    await writePins(pinSubsetPath(recentDir, 'pins_recent'), 'pins_recent', recentRows, recentExtra)
    const validRecent = await readFile(pinSubsetPath(recentDir, 'pins_recent'))
    const recentBase = await openIndexFile(indexFilePath(recentDir, 'pins'), 'pins', PEER)
    let recentUsed = 0
    // Unmutated, it is used and reads back its rows (so that "not used" below means refused).
    const unmutated = await openRecentPins(recentDir, recentBase, 0)
    assert.ok(unmutated, 'the valid pins_recent.parquet is used')
    const unmutatedRows: PinRow[] = []
    for await (const r of queryPinFile(unmutated, {})) unmutatedRows.push(r)
    await unmutated.close()
    assert.deepEqual(unmutatedRows, recentRows)
    const validState = await readFile(statePath)
    const truth = await readStateFile(statePath, 'storage', PEER)
    const mutant = join(dir, 'mutant.parquet')
    const stateMutant = indexFilePath(join(dir, 'm'), 'storage')
    await writeStateFile(
      stateMutant,
      'storage',
      { writer: 'x', peerId: PEER, kuboVersion: null, generatedAt: new Date() },
      [],
      {},
    )

    const tally = new Map<string, { rejected: number; intact: number }>()
    const deadline = Date.now() + SECONDS * 1000
    let runs = 0
    while (Date.now() < deadline) {
      const [name, mutate] = mutations[randomInt(mutations.length)] as [string, Mutation]
      const t = tally.get(name) ?? { rejected: 0, intact: 0 }
      tally.set(name, t)
      const lookup = pins[randomInt(pins.length)] as PinRow
      // pins.parquet
      await writeFile(mutant, mutate(validPins))
      const got = await withTimeout(`reading a mutant (${name})`, readPins(mutant, lookup.cid))
      if (got === 'rejected') t.rejected++
      else {
        assert.deepEqual(got.all, pins, `a mutant (${name}) read back other rows`)
        assert.deepEqual(got.one, [lookup], `a mutant (${name}) answered the lookup wrongly`)
        t.intact++
      }
      // storage_state.parquet
      await writeFile(stateMutant, mutate(validState))
      try {
        const state = await withTimeout('reading a state mutant', readStateFile(stateMutant, 'storage', PEER))
        assert.deepEqual(state.rows, truth.rows, `a state mutant (${name}) read back other figures`)
        assert.deepEqual(state.header.kv, truth.header.kv)
      } catch (err) {
        if (!(err instanceof IndexRejectedError)) throw err
      }
      // content.parquet: a full scan and a lookup, each all or nothing.
      await writeFile(contentPath(contentMutantDir), mutate(validContent))
      try {
        const file = await openContent(contentMutantDir, PEER)
        if (!file) throw new Error('the content mutant vanished')
        try {
          const all: ContentRow[] = []
          for await (const r of allContent(file)) all.push(r)
          const one = await contentOf(file, [lookup.cid])
          assert.deepEqual(all, contentRows, `a content mutant (${name}) read back other rows`)
          assert.deepEqual(
            one.get(lookup.cid),
            contentRows.find((r) => r.cid === lookup.cid),
            `a content mutant (${name}) answered the lookup wrongly`,
          )
        } finally {
          await file.close()
        }
      } catch (err) {
        if (!(err instanceof IndexRejectedError)) throw err
      }
      // cluster_pins.parquet: a full scan, a lookup, its peers and counts, each all or nothing.
      await writeFile(clusterPinsPath(clusterMutantDir), mutate(validCluster))
      try {
        const file = await withTimeout('opening a cluster mutant', openClusterPins(clusterMutantDir, PEER))
        try {
          const all: ClusterPinRow[] = []
          for await (const r of allClusterPins(file)) all.push(r)
          const one = await clusterPinsOf(file, [lookup.cid])
          assert.deepEqual(all, clusterRows, `a cluster mutant (${name}) read back other rows`)
          assert.deepEqual(
            one,
            clusterRows.filter((r) => r.cid === lookup.cid),
            `a cluster mutant (${name}) answered the lookup wrongly`,
          )
          assert.deepEqual(
            clusterSummaryOf(file),
            clusterSummary,
            `a cluster mutant (${name}) counted otherwise`,
          )
          assert.equal(clusterPeersOf(file).length, 1)
        } finally {
          await file.close()
        }
      } catch (err) {
        if (!(err instanceof IndexRejectedError)) throw err
      }
      // A pin-events part: refused, or read back exactly.
      await writeFile(eventsPart.path, mutate(validEvents))
      try {
        const rows = await withTimeout(
          'reading an events mutant',
          readDayLogPart(eventsPart, 'pin_events', PEER),
        )
        assert.deepEqual(rows, eventsTruth, `an events mutant (${name}) read back other events`)
      } catch (err) {
        if (!(err instanceof IndexRejectedError)) throw err
      }
      // pins_recent.parquet: not used (null), or used and read back whole: it is checked before
      // use, so a mutant never fails half-way through the read.
      await writeFile(pinSubsetPath(recentDir, 'pins_recent'), mutate(validRecent))
      const recent = await withTimeout(
        'opening a recent-pins mutant',
        openRecentPins(recentDir, recentBase, 0),
      )
      if (recent) {
        try {
          const rows: PinRow[] = []
          for await (const r of queryPinFile(recent, {})) rows.push(r)
          assert.deepEqual(rows, recentRows, `a recent-pins mutant (${name}) read back other rows`)
          recentUsed++
        } finally {
          await recent.close()
        }
      }
      runs++
    }
    const summary = [...tally]
      .map(([n, t]) => `${n}: ${t.rejected} refused, ${t.intact} read intact`)
      .join('; ')
    await recentBase.close()
    process.stdout.write(
      `# fuzz: ${runs} mutants of each file in ${SECONDS} s; ${summary}; recent pins used intact ${recentUsed}\n`,
    )
    assert.ok(runs > 0)
  })
})
