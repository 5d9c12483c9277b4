// The index store: atomic writes that other readers accept, and a reader that rejects every
// file it cannot trust with its own reason.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { schemaFromColumnData } from 'hyparquet-writer'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import type { ContentRow } from '../src/store/content-format.js'
import { largest } from '../src/store/content-writer.js'
import { type EncoderSetup, IndexEncoder } from '../src/store/encoder.js'
import { indexFilePath } from '../src/store/layout.js'
import { pinTimesOf, queryPinFile } from '../src/store/pins.js'
import { PINS_SCHEMA_VERSION, pinsColumns } from '../src/store/pins-format.js'
import { checkIndexFile, openIndexFile } from '../src/store/reader.js'
import { WORKER_ROWS } from '../src/store/writer.js'
import { rawContentRow, writePinsFile } from './helpers/index-files.js'
import { makeTempDir } from './helpers/kubo.js'

const PEER = '12D3KooWJ9c6EZs1KEJY8HADbZGWRTPnkpFq4hjbQ1WxDCiv2q4D'
const OTHER_PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const CIDS = [
  'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn',
  'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
]

/** Replaces the first occurrence of `from` in a file by `to` (same length), as a bit flip on disk would. */
async function replaceFirst(path: string, from: string, to: string): Promise<void> {
  const bytes = await readFile(path)
  const at = bytes.indexOf(Buffer.from(from))
  assert.ok(at >= 0, `${from} is not in ${path}`)
  Buffer.from(to).copy(bytes, at)
  await writeFile(path, bytes)
}

function writePins(
  path: string,
  options: {
    peerId?: string
    cids?: string[]
    schemaVersion?: number
    writer?: string
    rowCountClaim?: number
  } = {},
) {
  return writePinsFile(path, { ...options, peerId: options.peerId ?? PEER, cids: options.cids ?? CIDS })
}

describe('index store', () => {
  it('writes atomically, privately, leaving no temporary file, and reads back as valid', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    await writePins(path)
    await writePins(path)
    assert.deepEqual(await readdir(join(kit, 'pin_metadata/parquet_storage')), ['pins.parquet'])
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    const check = await checkIndexFile(path, 'pins', PEER)
    assert.equal(check.status, 'valid')
    assert.equal(check.status === 'valid' && check.header.rowCount, 3)
    assert.equal(check.status === 'valid' && check.header.kuboVersion, '0.43.1')
  })

  it('says missing for an absent file', async () => {
    const kit = await makeTempDir('kit')
    assert.equal((await checkIndexFile(indexFilePath(kit, 'pins'), 'pins', PEER)).status, 'missing')
  })

  const rejected: Array<[string, (path: string) => Promise<unknown>, RegExp]> = [
    ['zero bytes', (p) => writeFile(p, ''), /0 bytes, too small/],
    [
      'a truncated file',
      async (p) => {
        await writePins(p)
        await truncate(p, (await stat(p)).size - 40)
      },
      /footer cannot be read|truncated/,
    ],
    [
      'random bytes',
      (p) => writeFile(p, Buffer.from('this is not parquet at all, not even close')),
      /magic bytes/,
    ],
    ['another node', (p) => writePins(p, { peerId: OTHER_PEER }), /belongs to peer 12D3KooWQYh/],
    ['an unknown schema version', (p) => writePins(p, { schemaVersion: 99 }), /unknown schema version "99"/],
    [
      'a foreign writer',
      (p) => writePins(p, { writer: 'mock-generator 1.0' }),
      /writer is "mock-generator 1.0"/,
    ],
    [
      'fake CIDs',
      (p) => writePins(p, { cids: ['QmFakeCid1', 'QmFakeCid2'] }),
      /row group 0 has an invalid CID as its min or max: "QmFakeCid1"/,
    ],
    [
      'one invalid CID among many',
      (p) => writePins(p, { cids: [...CIDS, 'bafy-not-real', ...CIDS] }),
      /row 3 has an invalid CID/,
    ],
    ['a row count that lies', (p) => writePins(p, { rowCountClaim: 1000 }), /row counts disagree/],
    [
      'a symlink',
      async (p) => {
        const real = `${p}.real`
        await writePins(real)
        await symlink(real, p)
      },
      /symbolic link/,
    ],
    ['a directory', (p) => mkdir(p), /not a regular file/],
    [
      'a CID edited into another valid CID',
      async (p) => {
        await writePins(p)
        const original = CIDS[1] as string
        // One base32 letter of the digest changed: still a valid CID, but not one the node has.
        const forged = `${original.slice(0, 20)}${original[20] === 'a' ? 'b' : 'a'}${original.slice(21)}`
        const { CID } = await import('multiformats/cid')
        assert.ok(CID.parse(forged))
        await replaceFirst(p, original, forged)
      },
      /row group 0 column cid does not match its checksum/,
    ],
    [
      'edited metadata',
      async (p) => {
        await writePins(p)
        // The writer's name in the key-value metadata (it comes before created_by in the footer).
        await replaceFirst(p, 'ipfs-kit 0.1.0', 'ipfs-kit 0.1.1')
      },
      /metadata does not match its checksum/,
    ],
    [
      'a file without checksums',
      async (p) => {
        const { parquetWriteBuffer } = await import('hyparquet-writer')
        const now = new Date()
        const kv = [
          ['ipfs_kit.kind', 'pins'],
          ['ipfs_kit.schema_version', String(PINS_SCHEMA_VERSION)],
          ['ipfs_kit.writer', 'ipfs-kit 0.1.0'],
          ['ipfs_kit.peer_id', PEER],
          ['ipfs_kit.generated_at', now.toISOString()],
          ['ipfs_kit.row_count', String(CIDS.length)],
        ].map(([key, value]) => ({ key: key as string, value: value as string }))
        const columnData = [
          { name: 'cid', data: CIDS, type: 'STRING' as const },
          { name: 'type', data: CIDS.map(() => 'recursive'), type: 'STRING' as const },
          { name: 'name', data: CIDS.map(() => null), type: 'STRING' as const, nullable: true },
          { name: 'first_seen', data: CIDS.map(() => now), type: 'TIMESTAMP' as const },
          { name: 'first_seen_exact', data: CIDS.map(() => 0), type: 'INT32' as const },
        ]
        await writeFile(p, new Uint8Array(parquetWriteBuffer({ columnData, kvMetadata: kv })))
      },
      /it has no checksums/,
    ],
    [
      'a 100 MB text cell',
      (p) =>
        writePinsFile(p, { peerId: PEER, cids: CIDS, names: [null, 'x'.repeat(100 * 1024 * 1024), null] }),
      /row group 0 column name holds \d+ bytes for 3 values, more than 4096 bytes a value/,
    ],
  ]
  for (const [what, make, why] of rejected) {
    it(`rejects ${what} with its own reason`, async () => {
      const kit = await makeTempDir('kit')
      const path = indexFilePath(kit, 'pins')
      await mkdir(join(kit, 'pin_metadata/parquet_storage'), { recursive: true })
      await make(path)
      const check = await checkIndexFile(path, 'pins', PEER)
      assert.equal(check.status, 'invalid')
      assert.match(check.status === 'invalid' ? check.reason : '', why)
    })
  }

  it('rejects a file of the wrong kind, and one without ipfs-kit metadata', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    await writePins(path)
    const asSystem = await checkIndexFile(path, 'system', PEER)
    assert.match(asSystem.status === 'invalid' ? asSystem.reason : '', /is a "pins" file, not a system file/)
    const { parquetWriteBuffer } = await import('hyparquet-writer')
    await writeFile(
      path,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'cid', data: CIDS, type: 'STRING' }] })),
    )
    const bare = await checkIndexFile(path, 'pins', PEER)
    assert.match(bare.status === 'invalid' ? bare.reason : '', /no ipfs-kit metadata/)
  })

  it('rejects a file the user cannot read', {
    skip: process.getuid?.() === 0 ? 'root reads every file' : false,
  }, async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    await writePins(path)
    await chmod(path, 0)
    const check = await checkIndexFile(path, 'pins', PEER)
    assert.match(check.status === 'invalid' ? check.reason : '', /not readable/)
  })

  it('reads back whole, without the validating reader, with the same rows', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    await writePins(path)
    const { parquetReadObjects } = await import('hyparquet')
    const bytes = await readFile(path)
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    })
    assert.deepEqual(
      rows.map((r) => r.cid),
      CIDS,
    )
  })

  it('reads a file of the version before (first_seen_exact as BOOLEAN) with the same rows as one of this version', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    const firstSeen = [
      new Date('2026-01-01T00:00:00Z'),
      new Date('2026-01-02T00:00:00Z'),
      new Date('2026-01-03T00:00:00Z'),
    ]
    const firstSeenExact = [false, true, true]
    const rowsOf = async () => {
      const file = await openIndexFile(path, 'pins', PEER)
      try {
        const rows = []
        for await (const row of queryPinFile(file, {})) rows.push(row)
        const looked = []
        for await (const row of queryPinFile(file, { cids: [CIDS[0] as string] })) looked.push(row)
        return { version: file.header.schemaVersion, rows, looked }
      } finally {
        await file.close()
      }
    }
    await writePinsFile(path, { peerId: PEER, cids: CIDS, firstSeen, firstSeenExact, schemaVersion: 5 })
    const older = await rowsOf()
    await writePinsFile(path, { peerId: PEER, cids: CIDS, firstSeen, firstSeenExact })
    const now = await rowsOf()
    assert.equal(older.version, 5)
    assert.equal(now.version, PINS_SCHEMA_VERSION)
    assert.deepEqual(
      now.rows.map((r) => [r.cid, r.first_seen, r.first_seen_exact]),
      CIDS.map((c, i) => [c, firstSeen[i]?.toISOString(), firstSeenExact[i]]),
    )
    assert.deepEqual(older, { ...now, version: 5 })
    assert.equal(now.looked[0]?.first_seen_exact, false)
  })

  describe('the page index of the cid column', () => {
    // 3,000 CIDs in row groups of 1,000 and pages of about 16: lookups must find every CID
    // wherever it lies (first or last of a page or a group) and nothing else.
    const cids = Array.from({ length: 3000 }, (_, i) => rawCid(`page index ${i}`)).sort()
    const write = (path: string) =>
      writePinsFile(path, { peerId: PEER, cids, rowGroupSize: 1000, pageSize: 1024 })
    const lookup = async (path: string, wanted: string[]) => {
      const file = await openIndexFile(path, 'pins', PEER)
      try {
        const out: string[] = []
        for await (const row of queryPinFile(file, { cids: wanted })) out.push(row.cid)
        return out
      } finally {
        await file.close()
      }
    }

    it('finds each CID through the page index, wherever it lies in the pages and row groups', async () => {
      const path = indexFilePath(await makeTempDir('kit'), 'pins')
      await write(path)
      const { parquetMetadata } = await import('hyparquet')
      const bytes = await readFile(path)
      const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
      assert.equal(meta.row_groups.length, 3)
      assert.ok(meta.row_groups.every((g) => g.columns[0]?.column_index_offset !== undefined))
      for (const i of [0, 1, 15, 16, 17, 999, 1000, 1001, 1500, 1999, 2000, 2998, 2999]) {
        assert.deepEqual(await lookup(path, [cids[i] as string]), [cids[i]], `row ${i}`)
      }
      const absent = rawCid('not pinned')
      assert.deepEqual(await lookup(path, [absent]), [])
      assert.deepEqual(await lookup(path, [cids[2999] as string, cids[3] as string, absent].sort()), [
        cids[3],
        cids[2999],
      ])
    })

    it('finds many CIDs at once, present and absent, as one lookup each would', async () => {
      const path = indexFilePath(await makeTempDir('kit'), 'pins')
      await write(path)
      // Every 37th row (spread over every page and group), with absent CIDs between them, in
      // no particular order and one asked twice.
      const asked = cids.filter((_, i) => i % 37 === 0)
      const absent = [rawCid('absent 1'), rawCid('absent 2'), rawCid('absent 3')]
      const question = [...absent, ...asked.slice().reverse(), asked[4] as string]
      assert.deepEqual(await lookup(path, question), asked)
    })

    it('refuses a lookup in a page whose CIDs are out of order', async () => {
      const path = indexFilePath(await makeTempDir('kit'), 'pins')
      // Two neighbours swapped: the pages' bounds still hold them, the order within does not.
      const swapped = cids.slice()
      ;[swapped[1500], swapped[1501]] = [swapped[1501] as string, swapped[1500] as string]
      await writePinsFile(path, { peerId: PEER, cids: swapped, rowGroupSize: 1000, pageSize: 1024 })
      await assert.rejects(
        lookup(path, [cids[1500] as string, cids[1502] as string]),
        /row 150[01] is not in CID order/,
      )
    })

    it('refuses a file whose page index does not match its checksum', async () => {
      const path = indexFilePath(await makeTempDir('kit'), 'pins')
      await write(path)
      const { parquetMetadata } = await import('hyparquet')
      const bytes = await readFile(path)
      const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
      // A bit flipped in a page's max in the column index of row group 1.
      const chunk = meta.row_groups[1]?.columns[0]
      const at = Number(chunk?.column_index_offset) + Math.floor(Number(chunk?.column_index_length) / 2)
      bytes[at] = (bytes[at] as number) ^ 1
      await writeFile(path, bytes)
      await assert.rejects(lookup(path, [cids[1500] as string]), /page indexes do not match their checksum/)
      const check = await checkIndexFile(path, 'pins', PEER)
      assert.equal(check.status, 'invalid')
      assert.match(check.status === 'invalid' ? check.reason : '', /page indexes/)
    })

    it('refuses bytes between the row groups and the footer that no checksum covers', async () => {
      const path = indexFilePath(await makeTempDir('kit'), 'pins')
      await writePins(path) // three CIDs: one page, no page index
      const bytes = await readFile(path)
      const footerLength = bytes.readUInt32LE(bytes.length - 8)
      const footerStart = bytes.length - 8 - footerLength
      await writeFile(
        path,
        Buffer.concat([bytes.subarray(0, footerStart), Buffer.from('planted'), bytes.subarray(footerStart)]),
      )
      const check = await checkIndexFile(path, 'pins', PEER)
      assert.equal(check.status, 'invalid')
      assert.match(
        check.status === 'invalid' ? check.reason : '',
        /7 bytes after its row groups that no checksum covers/,
      )
    })
  })
})

/** A CIDv1 (raw, sha2-256) of some text, as multiformats would print it. */
function rawCid(text: string): string {
  const digest = createHash('sha256').update(text).digest()
  return CID.create(1, 0x55, Digest.create(0x12, digest)).toString()
}

describe('index files encoded in a worker thread', () => {
  const manyCids = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const digest = new Uint8Array(32)
      new DataView(digest.buffer).setUint32(0, i)
      return CID.createV1(0x55, Digest.create(0x12, digest)).toString()
    }).sort()

  it('are, byte for byte, the file encoded in the writing thread, and read back whole', async () => {
    const kit = await makeTempDir('kit')
    const n = WORKER_ROWS + 5_000
    const cids = manyCids(n)
    const rows = {
      cids,
      names: cids.map((_, i) => (i % 7 === 0 ? `file ${i}` : null)),
      types: cids.map((_, i) => (i % 100 === 0 ? 'direct' : 'recursive')),
      generatedAt: new Date('2026-12-01T00:00:00Z'),
      peerId: PEER,
    }
    const here = join(kit, 'here.parquet')
    const there = join(kit, 'worker.parquet')
    await writePinsFile(here, { ...rows, worker: false })
    await writePinsFile(there, { ...rows, worker: true })
    assert.ok((await readFile(here)).equals(await readFile(there)), 'the two files differ')
    const check = await checkIndexFile(there, 'pins', PEER)
    assert.equal(check.status, 'valid')
    const file = await openIndexFile(there, 'pins', PEER)
    try {
      const read = []
      for await (const row of queryPinFile(file, {})) read.push(row)
      assert.deepEqual(
        read.map((r) => [r.cid, r.type, r.name]),
        cids.map((cid, i) => [cid, rows.types[i], rows.names[i]]),
      )
    } finally {
      await file.close()
    }
    // The manager's writes of this size go to the worker on their own.
    const byDefault = join(kit, 'default.parquet')
    await writePinsFile(byDefault, rows)
    assert.ok((await readFile(byDefault)).equals(await readFile(here)))
  })

  it("run from the manager's bundle as from the modules: the bundled encoder gives the same bytes", async () => {
    // dist/test/store.test.js -> dist/src/ipfs-kit-encoder.cjs (scripts/bundle.mjs)
    const script = new URL('../src/ipfs-kit-encoder.cjs', import.meta.url)
    const cids = manyCids(3_000)
    const columns = pinsColumns(
      cids,
      cids.map(() => 'recursive'),
      cids.map((_, i) => (i % 3 === 0 ? `n${i}` : null)),
      cids.map(() => new Date('2026-12-01T00:00:00Z')),
      cids.map(() => false),
    )
    const setup: EncoderSetup = {
      kv: [{ key: 'k', value: 'v' }],
      createdBy: 'ipfs-kit test',
      schema: schemaFromColumnData({ columnData: columns }),
    }
    const here = new IndexEncoder(setup)
    const expected = Buffer.concat([here.group(columns, cids.length).slice(), here.finish()])
    const worker = new Worker(script, { workerData: setup })
    try {
      const ask = (m: unknown) =>
        new Promise<Uint8Array>((resolve, reject) => {
          worker.once('message', (r: { bytes?: Uint8Array; error?: string }) =>
            r.bytes ? resolve(r.bytes) : reject(new Error(r.error)),
          )
          worker.postMessage(m)
        })
      const got = Buffer.concat([await ask({ columns, rowCount: cids.length }), await ask({ finish: true })])
      assert.ok(got.equals(expected))
    } finally {
      await worker.terminate()
    }
  })

  it('fail the write when the worker cannot encode, leaving the old file and no temporary file', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    await writePins(path)
    const before = await readFile(path)
    await assert.rejects(
      writePinsFile(path, {
        peerId: PEER,
        cids: manyCids(100),
        worker: true,
        // A time that is not one: hyparquet-writer refuses it in the worker.
        mapColumn: (c) => (c.name === 'first_seen' ? { ...c, data: Array.from(c.data, () => 'noon') } : c),
      }),
      /encoding the file failed: .*BigInt/,
    )
    assert.deepEqual(await readdir(join(kit, 'pin_metadata/parquet_storage')), ['pins.parquet'])
    assert.ok((await readFile(path)).equals(before))
  })
})

describe('pinTimesOf', () => {
  it('gives what a CID lookup of queryPinFile gives of first_seen, for pinned CIDs only, over many row groups and pages', async () => {
    const kit = await makeTempDir('kit')
    const path = indexFilePath(kit, 'pins')
    const cids = Array.from({ length: 3_000 }, (_, i) => {
      const digest = new Uint8Array(32)
      new DataView(digest.buffer).setUint32(4, i * 7919)
      return CID.createV1(0x55, Digest.create(0x12, digest)).toString()
    }).sort()
    const firstSeen = cids.map((_, i) => new Date(Date.UTC(2026, 10, 1) + i * 60_000))
    await writePinsFile(path, {
      peerId: PEER,
      cids,
      firstSeen,
      firstSeenExact: cids.map((_, i) => i % 2 === 0),
      rowGroupSize: 500,
      pageSize: 2_000,
    })
    const notPinned = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(32).fill(9))).toString()
    const asked = [cids[0], cids[777], cids[778], cids[1500], cids[2999], notPinned, cids[777]] as string[]
    const file = await openIndexFile(path, 'pins', PEER)
    try {
      const times = await pinTimesOf(file, asked)
      const expected = new Map<string, { first_seen: string; first_seen_exact: boolean }>()
      for await (const row of queryPinFile(file, { cids: asked }))
        expected.set(row.cid, {
          first_seen: row.first_seen as string,
          first_seen_exact: row.first_seen_exact as boolean,
        })
      assert.equal(expected.size, 5)
      assert.deepEqual(new Map([...times].sort()), new Map([...expected].sort()))
      assert.equal(times.get(cids[778] as string)?.first_seen, (firstSeen[778] as Date).toISOString())
      assert.equal((await pinTimesOf(file, [])).size, 0)
    } finally {
      await file.close()
    }
  })
})

describe("content.parquet's list of the largest DAGs", () => {
  it('is what a sort of every row by size, then CID, puts first', () => {
    // Sizes from a small range (many ties), some unknown, in random order.
    let seed = 11
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648)
    const rows = Array.from({ length: 5000 }, (_, i): ContentRow => {
      const n = next()
      return rawContentRow(rawCid(`largest ${i}`), n % 9 === 0 ? null : n % 40)
    })
    const sorted = rows
      .filter((r) => r.dag_size_bytes !== null)
      .sort((a, b) => (b.dag_size_bytes as number) - (a.dag_size_bytes as number) || (a.cid < b.cid ? -1 : 1))
    assert.deepEqual(largest(rows), sorted.slice(0, 10))
    assert.deepEqual(
      largest(rows.slice(0, 3)),
      sorted.filter((r) => rows.slice(0, 3).includes(r)),
    )
    assert.deepEqual(largest([]), [])
  })
})

describe('the CID check of rows read (cidParser)', () => {
  it('refuses exactly what CID.parse refuses, once it has seen a CID of the same header', async () => {
    const { cidParser } = await import('../src/store/reader.js')
    const check = await cidParser()
    const accepts = (text: string) => {
      try {
        check(text)
        return true
      } catch {
        return false
      }
    }
    const parses = (text: string) => {
      try {
        CID.parse(text)
        return true
      } catch {
        return false
      }
    }
    // Valid CIDs of several headers (raw and dag-pb v1, v0, an identity hash, dag-cbor), each
    // followed by changes of one character, one character fewer and one more: the check and
    // CID.parse agree on every one, whatever header the check saw last.
    const digest = (n: number) => Digest.create(0x12, createHash('sha256').update(String(n)).digest())
    const valid = [
      ...CIDS,
      ...Array.from({ length: 5 }, (_, n) => CID.createV1(0x55, digest(n)).toString()),
      CID.createV1(0x71, digest(7)).toString(),
      CID.createV1(0x55, Digest.create(0x00, new TextEncoder().encode('identity'))).toString(),
      CID.createV1(0x70, digest(9)).toString(),
    ]
    const letters = 'abcdefghijklmnopqrstuvwxyz234567ABQ01!= '
    let refused = 0
    let tried = 0
    for (const cid of valid) {
      assert.ok(accepts(cid), cid)
      const variants = [cid.slice(0, -1), `${cid}a`, `${cid}aaaaaaaa`, cid.slice(1), ` ${cid}`, '']
      for (let at = 0; at < cid.length; at += 3)
        for (const c of letters) variants.push(cid.slice(0, at) + c + cid.slice(at + 1))
      for (const v of variants) {
        // The last valid CID seen sets the header the check compares with.
        check(cid)
        tried++
        assert.equal(accepts(v), parses(v), `${JSON.stringify(v)} after ${cid}`)
        if (!parses(v)) refused++
      }
    }
    // The variants are not all valid or all invalid: the comparison above means something.
    assert.ok(refused > 100 && refused < tried - 100, `${refused} refused of ${tried}`)
  })
})
