// Hostile and broken index files, one table, on a real node: each is refused with its own reason,
// the command still answers (from Kubo's RPC API) with the node's true pins, nothing hangs, and
// no CID the node does not have is ever printed.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmod, copyFile, mkdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parquetMetadata } from 'hyparquet'
import { indexFilePath, PINS_META, pinSubsetPath, pinsDeltaPath } from '../src/store/layout.js'
import type { DeltaEntry } from '../src/store/pin-delta.js'
import { writePinDelta } from '../src/store/pin-delta-writer.js'
import { PINS_SCHEMA_VERSION } from '../src/store/pins-format.js'
import { writeStateFile } from '../src/store/state-writer.js'
import { columnsSource, writeIndexFileAtomic } from '../src/store/writer.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { writePinsFile } from './helpers/index-files.js'
import { makeTempDir } from './helpers/kubo.js'

const OTHER_PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

interface Pin {
  cid: string
  type: string
  name: string | null
  first_seen?: string | null
  first_seen_exact?: boolean | null
}

/** The pins without the times, which only the index knows (Kubo's API answers them null). */
const strip = (pins: Pin[]) => pins.map(({ cid, type, name }) => ({ cid, type, name }))

let d: DaemonEnv
let peerId: string
let truth: Pin[]
let pinsPath: string
let valid: Buffer

async function ipfs(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 120_000 })
}

before(async () => {
  d = await daemonEnv()
  const start = await d.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(start.code, 0, start.stderr)
  peerId = (await d.status()).kubo.peer_id as string
  const dir = await makeTempDir('blocks')
  const files: string[] = []
  for (let i = 0; i < 40; i++) {
    files.push(join(dir, `b${i}`))
    await writeFile(join(dir, `b${i}`), `hostile-files block ${i}`)
  }
  await ipfs(['block', 'put', '--pin=true', '--cid-codec=raw', ...files])
  // Two direct pins: few enough (under a tenth) for pins_direct.parquet to be written.
  for (let i = 0; i < 2; i++) await writeFile(join(dir, `direct${i}`), `hostile-files direct block ${i}`)
  const direct = (await ipfs(['block', 'put', '--cid-codec=raw', join(dir, 'direct0'), join(dir, 'direct1')]))
    .trim()
    .split('\n')
  await ipfs(['pin', 'add', '--recursive=false', ...direct])
  assert.equal((await d.cli(['index', 'refresh'])).code, 0)
  assert.equal((await d.cli(['index', 'stop'])).code, 0)
  pinsPath = indexFilePath(d.kitPath, 'pins')
  valid = await readFile(pinsPath)
  const listed = await d.cli(['pin', 'list', '--json', '--limit', '0'])
  const json = JSON.parse(listed.stdout) as { source: string; pins: Pin[] }
  assert.equal(json.source, 'index')
  truth = json.pins
  assert.ok(truth.length >= 40)
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

const cids = () => truth.map((p) => p.cid)
// The node's own types: a lookup reads one page, so a file damaged elsewhere still answers it.
const types = () => truth.map((p) => p.type)

/** The key-value metadata of a Parquet file's footer (read with hyparquet, not our reader). */
function parquetKv(bytes: Buffer): Record<string, string | undefined> {
  const meta = parquetMetadata(new Uint8Array(bytes).buffer)
  return Object.fromEntries((meta.key_value_metadata ?? []).map((e) => [e.key, e.value]))
}

/**
 * Changes one base32 letter in the middle of a CID's digest where it lies in the file (its
 * prefix may be compressed away, its tail is not): the CID still parses, but the node has no
 * such block.
 */
function flipCidLetter(bytes: Buffer, cid: string): void {
  const tail = Buffer.from(cid.slice(24))
  const at = bytes.indexOf(tail)
  assert.ok(at > 0, `${cid} is not stored verbatim`)
  bytes[at + 4] = bytes[at + 4] === 0x61 ? 0x62 : 0x61
}

/** pins.parquet of the true pins, as the manager writes it, but for its first_seen_exact column. */
const writeWithFirstSeenExact = (exact: { type: 'INT32' | 'BOOLEAN'; data: Array<number | boolean> }) =>
  writePinsFile(pinsPath, {
    peerId,
    cids: cids(),
    types: types(),
    firstSeenExact: cids().map(() => true),
    mapColumn: (c) => (c.name === 'first_seen_exact' ? { ...c, ...exact } : c),
  })

/** Each case puts something in place of pins.parquet. */
const cases: Array<{ what: string; make: () => Promise<unknown>; why: RegExp; skip?: string }> = [
  { what: 'zero bytes', make: () => writeFile(pinsPath, ''), why: /0 bytes, too small/ },
  {
    what: 'a truncated file',
    make: async () => {
      await writeFile(pinsPath, valid)
      await truncate(pinsPath, Math.floor(valid.length * 0.6))
    },
    why: /footer cannot be read|truncated/,
  },
  { what: 'random bytes', make: () => writeFile(pinsPath, randomBytes(65_536)), why: /magic bytes/ },
  {
    what: 'a valid Parquet file of another schema',
    make: () =>
      writeIndexFileAtomic(
        pinsPath,
        {
          kind: 'pins',
          schemaVersion: PINS_SCHEMA_VERSION,
          writer: 'ipfs-kit 0.1.0',
          peerId,
          kuboVersion: null,
          generatedAt: new Date(),
        },
        columnsSource([{ name: 'hash', data: cids(), type: 'STRING' }], truth.length),
      ),
    why: /it has no column cid/,
  },
  {
    what: 'an unknown schema version',
    make: () => writePinsFile(pinsPath, { peerId, cids: cids(), schemaVersion: 7 }),
    why: /unknown schema version "7"/,
  },
  {
    what: "another node's peer ID",
    make: () => writePinsFile(pinsPath, { peerId: OTHER_PEER, cids: cids() }),
    why: /belongs to peer 12D3KooWQYh/,
  },
  {
    what: 'missing metadata',
    make: async () => {
      const { parquetWriteBuffer } = await import('hyparquet-writer')
      const columnData = [
        { name: 'cid', data: cids(), type: 'STRING' as const },
        { name: 'type', data: cids().map(() => 'recursive'), type: 'STRING' as const },
      ]
      await writeFile(pinsPath, new Uint8Array(parquetWriteBuffer({ columnData })))
    },
    why: /no ipfs-kit metadata/,
  },
  {
    what: 'CIDs replaced by fake strings',
    make: () => writePinsFile(pinsPath, { peerId, cids: cids().map((_, i) => `QmFAKE${i}`) }),
    why: /row 0 has an invalid CID: "QmFAKE0"/,
  },
  {
    what: 'one invalid CID among many',
    make: () => {
      const list = cids()
      // A digit 0 is not in the base32 alphabet of CIDv1.
      list[17] = `${list[17]?.slice(0, 30)}0${list[17]?.slice(31)}`
      return writePinsFile(pinsPath, { peerId, cids: list, types: types() })
    },
    why: /row 17 has an invalid CID: "bafk\w+0\w+"/,
  },
  {
    what: 'a 100 MB string cell',
    make: () =>
      writePinsFile(pinsPath, {
        peerId,
        cids: cids(),
        names: cids().map((_, i) => (i === 3 ? 'n'.repeat(100 * 1024 * 1024) : null)),
      }),
    why: /column name holds \d+ bytes for \d+ values, more than 4096 bytes a value/,
  },
  {
    what: 'a footer that claims more rows than there are',
    make: () => writePinsFile(pinsPath, { peerId, cids: cids(), rowCountClaim: truth.length + 1000 }),
    why: /row counts disagree/,
  },
  {
    what: 'a symlink to a file elsewhere',
    make: async () => {
      const elsewhere = join(await makeTempDir('elsewhere'), 'pins.parquet')
      await writeFile(elsewhere, valid)
      await rm(pinsPath, { force: true })
      await symlink(elsewhere, pinsPath)
    },
    why: /symbolic link/,
  },
  {
    what: 'a directory in its place',
    make: async () => {
      await rm(pinsPath, { force: true })
      await mkdir(pinsPath)
    },
    why: /not a regular file/,
  },
  {
    what: 'a file the user cannot read',
    make: async () => {
      await writeFile(pinsPath, valid)
      await chmod(pinsPath, 0)
    },
    why: /not readable by this user/,
    ...(process.getuid?.() === 0 ? { skip: 'root reads every file' } : {}),
  },
  {
    what: 'a CID edited on disk into another valid CID',
    make: async () => {
      const bytes = Buffer.from(valid)
      flipCidLetter(bytes, truth[5]?.cid as string)
      await writeFile(pinsPath, bytes)
    },
    why: /row group 0 column cid does not match its checksum/,
  },
  {
    what: 'a mock writer',
    make: () => writePinsFile(pinsPath, { peerId, cids: cids(), writer: 'mock-pins 1.0' }),
    why: /writer is "mock-pins 1.0", not ipfs-kit/,
  },
  {
    what: 'a state file in place of the pins file',
    make: () => copyFile(indexFilePath(d.kitPath, 'storage'), pinsPath),
    why: /is a "storage" file, not a pins file/,
  },
  {
    what: 'a first_seen_exact other than 0 or 1',
    make: () =>
      writeWithFirstSeenExact({ type: 'INT32' as const, data: truth.map((_, i) => (i === 4 ? 2 : 1)) }),
    why: /row 4 has no valid first_seen/,
  },
  {
    what: "a current-version file with the older version's BOOLEAN first_seen_exact",
    make: () => writeWithFirstSeenExact({ type: 'BOOLEAN' as const, data: truth.map(() => false) }),
    why: /column first_seen_exact is BOOLEAN, expected INT32/,
  },
  {
    what: 'a pin type Kubo never lists',
    make: () =>
      writePinsFile(pinsPath, {
        peerId,
        cids: cids(),
        types: types().map((t, i) => (i === 9 ? 'indirect' : t)),
      }),
    why: /row 9 has an unknown pin type "indirect"/,
  },
]

describe('hostile and broken index files', () => {
  for (const c of cases) {
    it(`pin list refuses ${c.what} and answers from Kubo`, c.skip ? { skip: c.skip } : {}, async () => {
      await rm(pinsPath, { recursive: true, force: true })
      await c.make()
      const started = Date.now()
      const r = await d.cli(['pin', 'list', '--json', '--limit', '0'], 60_000)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /not using the index: pins\.parquet /)
      assert.match(r.stderr, c.why)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      const json = JSON.parse(r.stdout) as { source: string; index_rejected: string; pins: Pin[] }
      assert.equal(json.source, 'api')
      assert.match(json.index_rejected, c.why)
      assert.deepEqual(strip(json.pins), strip(truth))
      // Kubo keeps no pin times: the API answer says so rather than inventing them.
      assert.ok(json.pins.every((p) => p.first_seen === null && p.first_seen_exact === null))
      assert.ok(Date.now() - started < 30_000, 'answered in time')
      const ndjson = await d.cli(['pin', 'list', '--cid', truth[5]?.cid as string, '--json'], 60_000)
      assert.equal(ndjson.code, 0, ndjson.stderr)
      assert.deepEqual(strip((JSON.parse(ndjson.stdout) as { pins: Pin[] }).pins), strip([truth[5] as Pin]))
      await rm(pinsPath, { recursive: true, force: true })
      await writeFile(pinsPath, valid, { mode: 0o600 })
    })
  }

  it('daemon status refuses a state file with a negative repo size and shows the live figure', async () => {
    const path = indexFilePath(d.kitPath, 'storage')
    const saved = await readFile(path)
    try {
      await writeStateFile(
        path,
        'storage',
        { writer: 'ipfs-kit 0.1.0', peerId, kuboVersion: '0.43.1', generatedAt: new Date() },
        [{ collected_at: new Date(), repo_path: d.ipfsPath, repo_size_bytes: -5_000_000, num_objects: 10 }],
        {},
      )
      const r = await d.cli(['daemon', 'status', '--json'])
      const status = JSON.parse(r.stdout) as { storage: { repo_size_bytes: number }; problems: string[] }
      assert.ok(
        status.problems.some((p) =>
          /storage state not used: row 0 column repo_size_bytes is -5000000, which no node reports/.test(p),
        ),
        status.problems.join('\n'),
      )
      assert.ok(status.storage.repo_size_bytes > 0)
      const statRepo = JSON.parse(await ipfs(['repo', 'stat', '--enc=json'])) as { RepoSize: number }
      assert.ok(Math.abs(status.storage.repo_size_bytes - statRepo.RepoSize) < 1_000_000)
      const state = await d.cli(['state', 'storage', '--json'])
      assert.match(state.stderr, /storage_state\.parquet row 0 column repo_size_bytes is -5000000/)
    } finally {
      await writeFile(path, saved)
    }
  })

  const deltaPath = () => pinsDeltaPath(d.kitPath)
  const entry = (cid: string, op: 'add' | 'rm' = 'add'): DeltaEntry => ({
    seq: 1_000_000,
    op,
    cid,
    type: op === 'add' ? 'recursive' : null,
    name: null,
    recorded_at: new Date(),
  })
  const header = (over: { peerId?: string; writer?: string } = {}) => ({
    writer: over.writer ?? 'ipfs-kit 0.1.0',
    peerId: over.peerId ?? peerId,
    kuboVersion: '0.43.1',
    generatedAt: new Date(),
  })
  const deltaCases: Array<{ what: string; make: () => Promise<unknown>; why: RegExp }> = [
    {
      what: "another node's delta",
      make: () =>
        writePinDelta(d.kitPath, header({ peerId: OTHER_PEER }), [entry(truth[0]?.cid as string, 'rm')]),
      why: /pins_delta\.parquet .*belongs to peer/,
    },
    {
      what: 'a mock delta that adds a pin the node does not have',
      make: async () => {
        const fake = (await ipfs(['add', '-Q', '--only-hash', '--cid-version=1', '/etc/hostname'])).trim()
        await writePinDelta(d.kitPath, header({ writer: 'mock-delta 1.0' }), [entry(fake)])
      },
      why: /pins_delta\.parquet .*writer is "mock-delta 1.0", not ipfs-kit/,
    },
    {
      what: 'a delta edited on disk',
      make: async () => {
        await writePinDelta(d.kitPath, header(), [entry(truth[1]?.cid as string, 'rm')])
        const bytes = await readFile(deltaPath())
        flipCidLetter(bytes, truth[1]?.cid as string)
        await writeFile(deltaPath(), bytes)
      },
      why: /pins_delta\.parquet row group 0 column cid does not match its checksum/,
    },
  ]
  for (const c of deltaCases) {
    it(`pin list refuses ${c.what}, answers from Kubo, and the next cycle removes it`, async () => {
      await c.make()
      const r = await d.cli(['pin', 'list', '--json', '--limit', '0'], 60_000)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, c.why)
      const json = JSON.parse(r.stdout) as { source: string; pins: Pin[] }
      assert.equal(json.source, 'api')
      assert.deepEqual(strip(json.pins), strip(truth))
      assert.equal((await d.cli(['index', 'refresh'])).code, 0)
      await assert.rejects(stat(deltaPath()), { code: 'ENOENT' })
      const again = JSON.parse((await d.cli(['pin', 'list', '--json', '--limit', '0'])).stdout) as {
        source: string
        pins: Pin[]
      }
      assert.equal(again.source, 'index')
      assert.deepEqual(strip(again.pins), strip(truth))
    })
  }

  it('answers --type direct from pins_direct.parquet of this pinset, and from pins.parquet otherwise', async () => {
    const direct = truth.filter((p) => p.type === 'direct')
    assert.equal(direct.length, 2)
    const path = pinSubsetPath(d.kitPath, 'pins_direct')
    const saved = await readFile(path)
    const bytes = await readFile(pinsPath)
    const pinset = parquetKv(bytes)[PINS_META.pinsetSha256] as string
    const plant = (sha: string) =>
      writePinsFile(path, {
        kind: 'pins_direct',
        peerId,
        cids: [direct[1]?.cid as string],
        types: ['direct'],
        extra: { [PINS_META.pinsetSha256]: sha },
      })
    const listDirect = async () =>
      JSON.parse((await d.cli(['pin', 'list', '--json', '--limit', '0', '--type', 'direct'])).stdout) as {
        source: string
        total: number
        pins: Pin[]
      }
    try {
      assert.deepEqual(strip((await listDirect()).pins), strip(direct))
      // Believed when it claims this pinset (only the second pin listed), not otherwise.
      await plant(pinset)
      assert.deepEqual(strip((await listDirect()).pins), strip([direct[1] as Pin]))
      await plant('f'.repeat(64))
      const other = await listDirect()
      assert.equal(other.source, 'index')
      assert.deepEqual(strip(other.pins), strip(direct))
      assert.equal(other.total, 2)
    } finally {
      await writeFile(path, saved)
    }
  })

  // pins_named.parquet: a file it cannot trust is not used (the names come from pins.parquet);
  // one that breaks during the read makes the answer come from Kubo; the next cycle rewrites it.
  const namedCases: Array<{
    what: string
    make: (pinset: string, planted: string) => Promise<unknown>
    from: string
    why?: RegExp
  }> = [
    {
      what: 'a mock named-pins file naming a pin the node does not have',
      make: (pinset, planted) =>
        writePinsFile(pinSubsetPath(d.kitPath, 'pins_named'), {
          kind: 'pins_named',
          peerId,
          writer: 'mock-named 1.0',
          cids: [planted],
          names: ['planted'],
          extra: { [PINS_META.pinsetSha256]: pinset },
        }),
      from: 'index',
    },
    {
      what: "another node's named-pins file",
      make: (pinset, planted) =>
        writePinsFile(pinSubsetPath(d.kitPath, 'pins_named'), {
          kind: 'pins_named',
          peerId: OTHER_PEER,
          cids: [planted],
          names: ['planted'],
          extra: { [PINS_META.pinsetSha256]: pinset },
        }),
      from: 'index',
    },
    {
      what: 'a named-pins file edited on disk',
      make: async (pinset) => {
        const path = pinSubsetPath(d.kitPath, 'pins_named')
        await writePinsFile(path, {
          kind: 'pins_named',
          peerId,
          cids: [truth[2]?.cid as string],
          names: ['planted'],
          extra: { [PINS_META.pinsetSha256]: pinset },
        })
        const bytes = await readFile(path)
        flipCidLetter(bytes, truth[2]?.cid as string)
        await writeFile(path, bytes)
      },
      from: 'api',
      why: /pins_named\.parquet row group 0 column cid does not match its checksum/,
    },
  ]
  for (const c of namedCases) {
    it(`pin list --name does not use ${c.what}; the next cycle rewrites it`, async () => {
      const base = JSON.parse((await d.cli(['doctor', '--json'])).stdout) as {
        index: { files: Array<{ kind: string; status: string }> }
      }
      assert.ok(base.index.files.some((f) => f.kind === 'pins_named' && f.status === 'valid'))
      const { parquetMetadata } = await import('hyparquet')
      const bytes = await readFile(pinsPath)
      const kv = parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      ).key_value_metadata
      const pinset = kv?.find((e) => e.key === PINS_META.pinsetSha256)?.value as string
      const planted = (await ipfs(['add', '-Q', '--only-hash', '--cid-version=1', '/etc/hostname'])).trim()
      await c.make(pinset, planted)
      const r = await d.cli(['pin', 'list', '--json', '--limit', '0', '--name', 'planted'], 60_000)
      assert.equal(r.code, 0, r.stderr)
      const json = JSON.parse(r.stdout) as { source: string; pins: Pin[] }
      assert.equal(json.source, c.from, r.stderr)
      assert.deepEqual(json.pins, [], 'no pin of the node has that name')
      if (c.why) assert.match(r.stderr, c.why)
      const doctor = JSON.parse((await d.cli(['doctor', '--json'])).stdout) as {
        index: { files: Array<{ kind: string; status: string }> }
      }
      assert.ok(doctor.index.files.some((f) => f.kind === 'pins_named' && f.status === 'invalid'))
      assert.equal((await d.cli(['index', 'refresh'])).code, 0)
      const after = JSON.parse((await d.cli(['doctor', '--json'])).stdout) as {
        index: { files: Array<{ kind: string; status: string; reason: string | null }> }
      }
      assert.ok(
        after.index.files.some((f) => f.kind === 'pins_named' && f.status === 'valid' && f.reason === null),
      )
    })
  }

  it('a damaged pins file is rewritten by the next cycle even when the pinset did not change', async () => {
    const bytes = Buffer.from(valid)
    flipCidLetter(bytes, truth[5]?.cid as string)
    await writeFile(pinsPath, bytes)
    const before = (await stat(pinsPath)).mtimeMs
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    assert.ok((await stat(pinsPath)).mtimeMs > before)
    const r = await d.cli(['pin', 'list', '--json', '--limit', '0'])
    const json = JSON.parse(r.stdout) as { source: string; pins: Pin[] }
    assert.equal(json.source, 'index', r.stderr)
    assert.deepEqual(strip(json.pins), strip(truth))
  })
})
