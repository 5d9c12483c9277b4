// A long-lived reader (the manager's query worker) remembers which column chunks it has checked,
// by file identity (store/integrity.ts): a second lookup in the same file reads only the pages it
// decodes and answers the same; a file changed in place (even one byte, keeping its size) or
// replaced is a new identity, checked again, and a corrupt byte is refused as before.
import assert from 'node:assert/strict'
import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { IndexRejectedError } from '../src/errors.js'
import { rememberCheckedChunks } from '../src/store/integrity.js'
import { type PinRow, queryPinFile } from '../src/store/pins.js'
import { openIndexFile } from '../src/store/reader.js'
import { writePinsFile } from './helpers/index-files.js'
import { makeTempDir } from './helpers/kubo.js'

const PEER = '12D3KooWJnvjyXwnEmRXPPEzmfTjzhbz2UuKyQJMcMpdSCwJuM9W'

async function cidsOf(n: number, tag: string): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++)
    out.push(CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`${tag} ${i}`))).toString())
  return out.sort()
}

async function lookup(path: string, cids: string[]): Promise<PinRow[]> {
  const file = await openIndexFile(path, 'pins', PEER)
  try {
    const rows: PinRow[] = []
    for await (const r of queryPinFile(file, { cids })) rows.push(r)
    return rows
  } finally {
    await file.close()
  }
}

describe('remembered checked chunks (a long-lived reader)', () => {
  rememberCheckedChunks()

  it('answers the same the second time, and checks a file changed in place again', async () => {
    const dir = await makeTempDir('remember')
    const path = join(dir, 'pins.parquet')
    const cids = await cidsOf(3000, 'remember')
    const generatedAt = new Date()
    await writePinsFile(path, { peerId: PEER, cids, rowGroupSize: 1000, pageSize: 1024, generatedAt })
    const asked = [cids[5] as string, cids[1500] as string, cids[2999] as string]
    const first = await lookup(path, asked)
    assert.deepEqual(
      first.map((r) => r.cid),
      asked,
    )
    // Remembered now: the same answer.
    assert.deepEqual(await lookup(path, asked), first)
    assert.deepEqual(await lookup(path, asked), first)
    // Other lookups in the same file use the page indexes parsed for the first: each answers
    // what a brute-force search of the CIDs says.
    for (let k = 0; k < 20; k++) {
      const some = cids.filter((_, i) => (i * 7 + k * 13) % 97 === 0)
      const also = await cidsOf(3, `absent ${k}`)
      assert.deepEqual(
        (await lookup(path, [...some, ...also].sort())).map((r) => r.cid),
        some,
      )
    }
    // One byte of the cid column of the middle row group flipped in place: same size, but the
    // file's change time moved, so it is checked again and refused.
    const { row_groups } = (await openIndexFile(path, 'pins', PEER)).metadata
    const meta = row_groups[1]?.columns[0]?.meta_data
    assert.ok(meta)
    const at = Number(meta.data_page_offset) + Number(meta.total_compressed_size) - 10
    const before = await stat(path)
    const fh = await open(path, 'r+')
    const byte = Buffer.alloc(1)
    await fh.read(byte, 0, 1, at)
    byte[0] = (byte[0] as number) ^ 0xff
    await fh.write(byte, 0, 1, at)
    await fh.close()
    assert.equal((await stat(path)).size, before.size)
    await assert.rejects(lookup(path, [cids[1500] as string]), (err: unknown) => {
      assert.ok(err instanceof IndexRejectedError)
      assert.match(err.reason, /does not match its checksum/)
      return true
    })
    // Replaced (a new file, as the manager writes one): checked, and answered.
    await writePinsFile(path, { peerId: PEER, cids, rowGroupSize: 1000, pageSize: 1024, generatedAt })
    assert.deepEqual(await lookup(path, asked), first)
    assert.deepEqual(await lookup(path, asked), first)
    // The page index is remembered too, and a byte changed in it in place is refused the same way.
    const chunk = (await openIndexFile(path, 'pins', PEER)).metadata.row_groups[1]?.columns[0]
    assert.ok(chunk?.column_index_offset !== undefined)
    const inIndex = Number(chunk.column_index_offset) + 3
    const fh2 = await open(path, 'r+')
    await fh2.read(byte, 0, 1, inIndex)
    byte[0] = (byte[0] as number) ^ 0xff
    await fh2.write(byte, 0, 1, inIndex)
    await fh2.close()
    await assert.rejects(lookup(path, [cids[1500] as string]), (err: unknown) => {
      assert.ok(err instanceof IndexRejectedError)
      assert.match(err.reason, /page index|checksum|cannot be read/)
      return true
    })
  })
})
