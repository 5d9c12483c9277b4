// The content index end to end on a real node with real content: every row of content.parquet
// equals `ipfs dag stat --offline` for that CID, with the kind and MIME type each file really
// has; a pin made through ipfs-kit is examined within seconds; `pin list` sorts and filters by
// it; `du` answers from it (and from Kubo when it cannot); a hostile content.parquet is refused.
import assert from 'node:assert/strict'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { examineCids } from '../src/content/examine.js'
import { type BlockFiles, openBlockFiles } from '../src/kubo/flatfs.js'
import { runIpfs } from '../src/kubo/process.js'
import { readApiFile, readRepoConfig } from '../src/kubo/repo.js'
import { KuboRpc } from '../src/kubo/rpc.js'
import { recentPins } from '../src/status/growth.js'
import { allContent, openContent } from '../src/store/content.js'
import {
  CONTENT_META,
  CONTENT_SCHEMA_VERSION,
  CONTENT_WRITE_OPTIONS,
  type ContentRow,
  contentColumns,
} from '../src/store/content-format.js'
import { writeContentFile } from '../src/store/content-writer.js'
import { contentPath, indexFilePath, PINS_META } from '../src/store/layout.js'
import { type OpenIndexFile, openIndexFile } from '../src/store/reader.js'
import { columnsSource, writeIndexFileAtomic } from '../src/store/writer.js'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { initTestRepo, makeTempDir } from './helpers/kubo.js'

interface SizedJson {
  cid: string
  type: string
  name: string | null
  size: number | null
  kind: string | null
  mime: string | null
}

let d: DaemonEnv
let bin: string
const ipfs = (args: string[]) => runIpfs(bin, args, { ipfsPath: d.ipfsPath, timeoutMs: 120_000 })
const expected = new Map<
  string,
  { kind: string; mime: string | null; direct?: boolean; incomplete?: boolean; empty?: boolean }
>()

/** A few real bytes of each format: what file-type reads them by. */
const SAMPLES: Record<string, { bytes: Buffer; mime: string }> = {
  'image.png': {
    bytes: Buffer.from(
      '89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
        '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
      'hex',
    ),
    mime: 'image/png',
  },
  'photo.jpg': {
    bytes: Buffer.concat([
      Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
      Buffer.alloc(64, 7),
    ]),
    mime: 'image/jpeg',
  },
  'doc.pdf': {
    bytes: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n'),
    mime: 'application/pdf',
  },
  'data.json': { bytes: Buffer.from('{"name": "ipfs-kit", "list": [1, 2, 3]}\n'), mime: 'application/json' },
  'notes.txt': { bytes: Buffer.from('plain words, nothing more\nsecond line\n'), mime: 'text/plain' },
}

async function list(
  args: string[] = [],
): Promise<{ pins: SizedJson[]; total: number | null; code: number | null; stderr: string }> {
  const r = await d.cli(['pin', 'list', '--json', '--limit', '0', ...args])
  const json = JSON.parse(r.stdout || '{"pins":[]}') as { pins: SizedJson[]; total: number | null }
  return { pins: json.pins, total: json.total, code: r.code, stderr: r.stderr }
}

/**
 * `ipfs dag stat --offline` of one CID. Of an empty DAG alone Kubo 0.43 fails ("json:
 * unsupported value: NaN": its ratio of shared to total bytes is 0/0); among other roots it
 * answers, so an empty one is asked together with `company`.
 */
async function dagStat(
  cid: string,
  company?: string,
): Promise<{ size: number; blocks: number } | { error: string }> {
  try {
    const out = JSON.parse(
      await ipfs([
        'dag',
        'stat',
        '--offline',
        '--progress=false',
        '--enc=json',
        cid,
        ...(company ? [company] : []),
      ]),
    ) as {
      DagStats: Array<{ Size?: number; NumBlocks: number }>
    }
    const s = out.DagStats[0] as { Size?: number; NumBlocks: number }
    // Kubo leaves a zero out of its JSON (omitempty): an empty DAG has no Size.
    return { size: s.Size ?? 0, blocks: s.NumBlocks }
  } catch (err) {
    return { error: (err as Error).message }
  }
}

describe('content index', () => {
  before(async () => {
    // A low sharding threshold, so that a directory of 40 entries is a HAMT-sharded one.
    const repo = await initTestRepo({ config: [['Import.UnixFSHAMTDirectorySizeThreshold', '1KiB']] })
    bin = repo.bin
    d = await daemonEnv({ ipfsPath: repo.ipfsPath })
    const files = await makeTempDir('content')
    for (const [name, s] of Object.entries(SAMPLES)) {
      await writeFile(join(files, name), s.bytes)
      expected.set((await ipfs(['add', '-Q', join(files, name)])).trim(), { kind: 'file', mime: s.mime })
    }
    // Random bytes over several blocks.
    const random = Buffer.alloc(700_000)
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24
    await writeFile(join(files, 'random.bin'), random)
    expected.set((await ipfs(['add', '-Q', join(files, 'random.bin')])).trim(), {
      kind: 'file',
      mime: 'application/octet-stream',
    })
    // A tree where one file sits in two folders (shared blocks), and a sharded directory.
    await mkdir(join(files, 'tree', 'a'), { recursive: true })
    await mkdir(join(files, 'tree', 'b'))
    for (const sub of ['a', 'b'])
      await writeFile(join(files, 'tree', sub, 'same.txt'), 'the same file twice\n')
    expected.set((await ipfs(['add', '-rQ', join(files, 'tree')])).trim(), { kind: 'directory', mime: null })
    // An empty directory: one block, like the small files it is read beside, but no file (the
    // `cat` of them all fails, and is split until it is read on its own).
    await mkdir(join(files, 'nothing-inside'))
    expected.set((await ipfs(['add', '-rQ', join(files, 'nothing-inside')])).trim(), {
      kind: 'directory',
      mime: null,
    })
    await mkdir(join(files, 'many'))
    for (let i = 0; i < 40; i++)
      await writeFile(join(files, 'many', `entry-with-a-long-name-${i}.txt`), `entry ${i}\n`)
    expected.set((await ipfs(['add', '-rQ', join(files, 'many')])).trim(), {
      kind: 'hamt-directory',
      mime: null,
    })
    // A raw block, a dag-cbor node, and a direct pin of a dag-pb root whose child is not here.
    const rawFile = join(files, 'raw')
    await writeFile(rawFile, 'a raw block of text\n')
    expected.set((await ipfs(['block', 'put', '--pin', rawFile])).trim(), { kind: 'raw', mime: 'text/plain' })
    // More raw roots, read together in one `cat` and cut apart by their lengths: files added as
    // CIDv1 (a one-block file is its raw leaf), an empty block, and one too large to read with
    // the others (read on its own).
    for (const name of ['image.png', 'doc.pdf', 'data.json'])
      expected.set((await ipfs(['add', '-Q', '--cid-version=1', join(files, name)])).trim(), {
        kind: 'raw',
        mime: SAMPLES[name]?.mime as string,
      })
    await writeFile(join(files, 'empty'), '')
    expected.set((await ipfs(['block', 'put', '--pin', join(files, 'empty')])).trim(), {
      kind: 'raw',
      mime: null,
      empty: true,
    })
    await writeFile(join(files, 'big-raw'), random.subarray(0, 300_000))
    expected.set((await ipfs(['block', 'put', '--pin', join(files, 'big-raw')])).trim(), {
      kind: 'raw',
      mime: 'application/octet-stream',
    })
    // One-block dag-pb roots that `cat` reads like files but are not plain ones: a symlink (its
    // target's path would read as text) and a file that keeps its mode. Their CIDs are not the
    // hash of a plain file node of those bytes, so their root blocks are read and decoded.
    await symlink('notes.txt', join(files, 'link'))
    expected.set((await ipfs(['add', '-Q', join(files, 'link')])).trim(), { kind: 'symlink', mime: null })
    expected.set((await ipfs(['add', '-Q', '--preserve-mode', join(files, 'notes.txt')])).trim(), {
      kind: 'file',
      mime: 'text/plain',
    })
    const cborFile = join(files, 'node.json')
    await writeFile(cborFile, '{"hello": "dag-cbor", "n": 1}')
    expected.set((await ipfs(['dag', 'put', '--pin', cborFile])).trim(), { kind: 'dag-cbor', mime: null })
    const missing = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const pbFile = join(files, 'pb.json')
    await writeFile(
      pbFile,
      JSON.stringify({
        Data: { '/': { bytes: 'CAIYgAE' } },
        Links: [{ Hash: { '/': missing }, Name: 'gone', Tsize: 128 }],
      }),
    )
    const root = (
      await ipfs(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', 'dag-pb', pbFile])
    ).trim()
    await ipfs(['pin', 'add', '--recursive=false', root])
    expected.set(root, { kind: 'file', mime: null, direct: true, incomplete: true })
    const start = await d.cli(['daemon', 'start', '--interval', '3600'])
    assert.equal(start.code, 0, start.stderr)
  })
  after(async () => {
    await d?.cli(['daemon', 'stop'])
  })

  it('every pin has a row equal to `ipfs dag stat --offline`, with its real kind and MIME type', async () => {
    const file = await openContent(d.kitPath, (await d.status()).kubo.peer_id as string)
    assert.ok(file, 'content.parquet is written by the first cycle')
    const rows = new Map<string, ContentRow>()
    try {
      for await (const r of allContent(file)) rows.set(r.cid, r)
      assert.match(file.header.kv['ipfs_kit.access_patterns'] ?? '', /not recorded: Kubo keeps no count/)
    } finally {
      await file.close()
    }
    const pinned = (await list()).pins
    assert.equal(rows.size, pinned.length, 'one row per pin, no more')
    for (const [cid, want] of expected) {
      const row = rows.get(cid)
      assert.ok(row, `${cid} examined`)
      const truth = await dagStat(cid, want.empty ? ([...expected.keys()][0] as string) : undefined)
      if ('error' in truth) {
        assert.ok(want.incomplete, `${cid}: dag stat failed: ${truth.error}`)
        assert.equal(row.dag_size_bytes, null, 'no size where Kubo gives none (never 0)')
        assert.equal(row.blocks, null)
        assert.equal(row.complete, false)
        assert.match(row.problem ?? '', /not found locally/)
      } else {
        assert.deepEqual({ size: row.dag_size_bytes, blocks: row.blocks }, truth, `${cid} equals dag stat`)
        assert.equal(row.complete, true)
      }
      assert.equal(row.kind, want.kind, `${cid} kind`)
      assert.equal(row.mime, want.mime, `${cid} MIME type`)
    }
    const big = [...expected].find(([, w]) => w.mime === 'application/octet-stream')?.[0] as string
    assert.ok((rows.get(big)?.blocks ?? 0) > 1, 'the random file spans several blocks')
    assert.equal(rows.get(big)?.file_size_bytes, 700_000)
    const status = JSON.parse((await d.cli(['index', 'status', '--json'])).stdout) as {
      content: { examined: number; total: number; eta_s: number; incomplete: number; root_blocks: unknown }
    }
    // The test profile keeps blocks in flatfs, Kubo's default: read from their files.
    assert.deepEqual(status.content.root_blocks, { from: 'files', folder: join(d.ipfsPath, 'blocks') })
    assert.match((await d.cli(['index', 'status'])).stdout, /root blocks read from Kubo's block files in /)
    assert.equal(status.content.examined, status.content.total)
    assert.equal(status.content.eta_s, 0)
    assert.equal(status.content.incomplete, 1)
  })

  it("Kubo's one-block file is the node @ipld/dag-pb and ipfs-unixfs make of its bytes (so it is read many to a cat)", async () => {
    // The examiner takes a one-block dag-pb root read by `cat` for a file only when its CID is
    // the hash of that node: were Kubo to write small files otherwise, each would cost a
    // block/get again (correct, but slower); this says so here first.
    const [{ encode, prepare }, { UnixFS }, { CID }, { sha256 }] = await Promise.all([
      import('@ipld/dag-pb'),
      import('ipfs-unixfs'),
      import('multiformats/cid'),
      import('multiformats/hashes/sha2'),
    ])
    const added = [...expected].filter(([cid, w]) => w.kind === 'file' && cid.startsWith('Qm'))
    let plain = 0
    for (const [name, sample] of Object.entries(SAMPLES)) {
      const node = encode(prepare({ Data: new UnixFS({ type: 'file', data: sample.bytes }).marshal() }))
      const cid = CID.createV0(await sha256.digest(node)).toString()
      if (added.some(([c]) => c === cid)) plain++
      else assert.fail(`${name}: \`ipfs add\` made another CID than the file node of its bytes`)
    }
    assert.equal(plain, Object.keys(SAMPLES).length)
  })

  it("reading root blocks from Kubo's files and through its RPC API gives the same rows", async () => {
    const address = await readApiFile(d.ipfsPath)
    assert.ok(address)
    const rpc = new KuboRpc({ address, timeoutMs: 30_000 })
    const peerId = (await d.status()).kubo.peer_id as string
    const opened = await openBlockFiles(d.ipfsPath, peerId)
    assert.ok('read' in opened, 'reason' in opened ? opened.reason : '')
    let fromFiles = 0
    const blocks: BlockFiles = {
      ...opened,
      read: (mh) => {
        const got = opened.read(mh)
        if (got) fromFiles++
        return got
      },
    }
    const cids = [...expected.keys()]
    const signal = new AbortController().signal
    const strip = (rows: ContentRow[]) => rows.map(({ examined_at, ...rest }) => rest)
    const throughKubo = strip(await examineCids(rpc, cids, { signal, dagTimeoutMs: 60_000 }))
    const fromTheFiles = strip(await examineCids(rpc, cids, { signal, dagTimeoutMs: 60_000, blocks }))
    assert.deepEqual(fromTheFiles, throughKubo)
    // Every root block is here (the incomplete pin lacks a child, not its root).
    assert.equal(fromFiles, cids.length, 'every root block read from its file')
  })

  it('pin list shows size, kind and MIME type, sorts by size and filters by them', async () => {
    const all = await list()
    assert.equal(all.code, 0, all.stderr)
    for (const p of all.pins) assert.ok('size' in p && 'kind' in p && 'mime' in p)
    const bySize = await list(['--sort', 'size'])
    const sizes = bySize.pins.map((p) => p.size)
    const known = sizes.filter((s): s is number => s !== null)
    assert.deepEqual(
      known,
      [...known].sort((a, b) => b - a),
      'largest first',
    )
    assert.equal(sizes.at(-1), null, 'the pin of unknown size comes last')
    // A few of the largest (from content.parquet's footer, looked up in pins.parquet) are the
    // first few of the whole sort, with the same total; of one type too.
    for (const type of [[], ['--type', 'recursive'], ['--type', 'direct']]) {
      const whole = await list(['--sort', 'size', ...type])
      for (const n of [1, 3, 10]) {
        const few = await list(['--sort', 'size', ...type, '--limit', String(n)])
        assert.equal(few.code, 0, few.stderr)
        assert.deepEqual(few.pins, whole.pins.slice(0, n), `--sort size --limit ${n} ${type.join(' ')}`)
        assert.equal(few.total, whole.total)
      }
    }
    const top = await d.cli(['pin', 'list', '--sort', 'size', '--limit', '2'])
    assert.equal(top.code, 0)
    assert.match(top.stdout.split('\n')[0] ?? '', /CID +TYPE +SIZE +KIND +NAME/)
    assert.match(top.stdout.split('\n')[1] ?? '', /683\.\d KiB +file/)
    const images = await list(['--mime', 'image/*'])
    assert.deepEqual(images.pins.map((p) => p.mime).sort(), ['image/jpeg', 'image/png', 'image/png'])
    assert.equal(images.total, 3)
    assert.deepEqual((await list(['--kind', 'hamt-directory'])).pins.length, 1)
    const large = await list(['--min-size', '100KB'])
    assert.deepEqual(
      large.pins.map((p) => [p.kind, p.mime]),
      [
        ['file', 'application/octet-stream'],
        ['raw', 'application/octet-stream'],
      ],
    )
    assert.equal((await list(['--min-size', '100KB', '--type', 'direct'])).pins.length, 0)
  })

  it('refuses bad content flags with exit 2', async () => {
    for (const args of [
      ['--min-size', 'lots'],
      ['--min-size', '-5'],
      ['--sort', 'sideways'],
      ['--kind', 'nothing'],
      ['--mime', 'png'],
    ]) {
      const r = await d.cli(['pin', 'list', ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(args[0] as string))
    }
    const du = await d.cli(['du', 'notacid'])
    assert.equal(du.code, 2)
  })

  it('a pin made through ipfs-kit is examined within seconds, without a cycle', async () => {
    const dir = await makeTempDir('new')
    await writeFile(join(dir, 'new.txt'), 'pinned through ipfs-kit\n')
    const cid = (await ipfs(['add', '-Q', '--pin=false', join(dir, 'new.txt')])).trim()
    const add = await d.cli(['pin', 'add', cid])
    assert.equal(add.code, 0, add.stderr)
    const row = await waitFor(
      'its size in pin list',
      async () => (await list(['--cid', cid])).pins.find((p) => p.size !== null),
      15_000,
    )
    assert.deepEqual(
      { size: row.size, blocks: undefined },
      { size: ((await dagStat(cid)) as { size: number }).size, blocks: undefined },
    )
    assert.equal(row.mime, 'text/plain')
    // A burst of pins made at once (their examinations share the file's writes): each is
    // examined within seconds, with Kubo's own figures.
    const burst: string[] = []
    for (let i = 0; i < 8; i++) {
      await writeFile(join(dir, `burst-${i}.json`), JSON.stringify({ burst: i, pad: 'x'.repeat(i * 100) }))
      burst.push((await ipfs(['add', '-Q', '--pin=false', join(dir, `burst-${i}.json`)])).trim())
    }
    const adds = await Promise.all(burst.map((c) => d.cli(['pin', 'add', c])))
    for (const a of adds) assert.equal(a.code, 0, a.stderr)
    for (const c of burst) {
      const r = await waitFor(
        `the size of ${c}`,
        async () => (await list(['--cid', c])).pins.find((p) => p.size !== null),
        15_000,
      )
      assert.equal(r.size, ((await dagStat(c)) as { size: number }).size)
      assert.equal(r.mime, 'application/json')
    }
  })

  it('du answers from the index, and from Kubo for a CID the index does not hold', async () => {
    const [cid] = [...expected].find(([, w]) => w.kind === 'directory') as [string, unknown]
    const r = await d.cli(['du', cid, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { source: string; size: number; blocks: number; kind: string }
    assert.equal(out.source, 'index')
    assert.deepEqual({ size: out.size, blocks: out.blocks }, await dagStat(cid))
    // Not pinned: not in the index; Kubo is asked (offline).
    const dir = await makeTempDir('unpinned')
    await writeFile(join(dir, 'u.txt'), 'not pinned at all\n')
    const loose = (await ipfs(['add', '-Q', '--pin=false', join(dir, 'u.txt')])).trim()
    const api = await d.cli(['du', loose, '--json'])
    assert.equal(api.code, 0, api.stderr)
    assert.match(api.stderr, /not in content\.parquet.*asking Kubo/)
    const a = JSON.parse(api.stdout) as { source: string; size: number; mime: string }
    assert.equal(a.source, 'api')
    assert.equal(a.size, ((await dagStat(loose)) as { size: number }).size)
    assert.equal(a.mime, 'text/plain')
    // An empty DAG alone, which Kubo's `dag stat` cannot answer for on its own: asked again with
    // another root, the figures are Kubo's (0 bytes, one block).
    await writeFile(join(dir, 'nothing'), '')
    const empty = (await ipfs(['block', 'put', '--cid-codec=dag-pb', join(dir, 'nothing')])).trim()
    assert.match(((await dagStat(empty)) as { error: string }).error, /NaN/, 'Kubo still fails alone')
    const e = await d.cli(['du', empty, '--json'])
    assert.equal(e.code, 0, e.stderr)
    const eo = JSON.parse(e.stdout) as {
      source: string
      size: number
      blocks: number
      problem: string | null
    }
    assert.deepEqual(
      { source: eo.source, size: eo.size, blocks: eo.blocks, problem: eo.problem },
      { source: 'api', ...(await dagStat(empty, loose)), problem: null },
    )
  })

  it('refuses a hostile content.parquet with its reason, shows no size from it, and the next cycle rewrites it', async () => {
    const peerId = (await d.status()).kubo.peer_id as string
    const pinned = (await list()).pins
    const real = pinned[0] as SizedJson
    const row = (over: Partial<ContentRow>): ContentRow => ({
      cid: real.cid,
      dag_size_bytes: 123,
      blocks: 1,
      codec: 'dag-pb',
      kind: 'file',
      file_size_bytes: 100,
      mime: 'text/plain',
      complete: true,
      examined_at: new Date(),
      problem: null,
      ...over,
    })
    const header = (peer: string) => ({
      writer: 'ipfs-kit test',
      peerId: peer,
      kuboVersion: null,
      generatedAt: new Date(),
    })
    const cases: Array<[string, () => Promise<void>, RegExp]> = [
      [
        'another node',
        () =>
          writeContentFile(
            d.kitPath,
            header('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'),
            [row({})],
            null,
          ),
        /belongs to peer/,
      ],
      [
        'a fake CID',
        () =>
          writeContentFile(
            d.kitPath,
            header(peerId),
            [row({ cid: 'QmNotACidAtAllButLongEnoughToLookLikeOne1234567' })],
            null,
          ),
        /invalid CID/,
      ],
      [
        'a negative size',
        () => writeContentFile(d.kitPath, header(peerId), [row({ dag_size_bytes: -5 })], null),
        /which no DAG has/,
      ],
      [
        'a truncated file',
        async () => {
          await writeContentFile(d.kitPath, header(peerId), [row({})], null)
          const { readFile: rf, writeFile: wf } = await import('node:fs/promises')
          const bytes = await rf(contentPath(d.kitPath))
          await wf(contentPath(d.kitPath), bytes.subarray(0, bytes.length - 30))
        },
        /footer|magic|truncated/,
      ],
    ]
    for (const [what, plant, why] of cases) {
      await plant()
      const r = await list(['--cid', real.cid])
      assert.equal(r.code, 0, `${what}: ${r.stderr}`)
      assert.match(r.stderr, why, what)
      assert.equal(r.pins[0]?.size, null, `${what}: no size from a refused file`)
      for (const few of [[], ['--limit', '3']]) {
        const sorted = await d.cli(['pin', 'list', '--sort', 'size', ...few])
        assert.equal(sorted.code, 1, `${what}: a sort by size without trustworthy sizes is refused`)
        assert.match(sorted.stderr, why)
      }
    }
    const refresh = await d.cli(['index', 'refresh'])
    assert.equal(refresh.code, 0, refresh.stderr)
    assert.deepEqual((await list()).pins, pinned, 'the next cycle wrote the true file again')
  })

  it('a content.parquet of the version before (complete a BOOLEAN) is kept: read as it is, rewritten by the next manager', async () => {
    const peerId = (await d.status()).kubo.peer_id as string
    const pinned = (await list()).pins
    const rowsNow = async () => {
      const file = await openContent(d.kitPath, peerId)
      assert.ok(file)
      try {
        const rows: ContentRow[] = []
        for await (const row of allContent(file)) rows.push(row)
        return { version: file.header.schemaVersion, kv: file.header.kv, rows }
      } finally {
        await file.close()
      }
    }
    const before = await rowsNow()
    assert.equal(before.version, CONTENT_SCHEMA_VERSION)
    assert.ok(before.rows.some((r) => r.complete === false) && before.rows.some((r) => r.complete === true))
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    // The same rows and metadata as the build before wrote them.
    const columns = contentColumns(before.rows).map((c) =>
      c.name === 'complete'
        ? { ...c, type: 'BOOLEAN' as const, data: before.rows.map((r) => r.complete) }
        : c,
    )
    await writeIndexFileAtomic(
      contentPath(d.kitPath),
      {
        kind: 'content',
        schemaVersion: 1,
        writer: 'ipfs-kit 0.1.0',
        peerId,
        kuboVersion: null,
        generatedAt: new Date(),
        extra: Object.fromEntries(Object.values(CONTENT_META).map((k) => [k, before.kv[k] as string])),
      },
      columnsSource(columns, before.rows.length),
      CONTENT_WRITE_OPTIONS,
    )
    assert.deepEqual(await rowsNow(), { ...before, version: 1, kv: (await rowsNow()).kv })
    assert.deepEqual((await list()).pins, pinned)
    // A new manager reads it back (nothing examined again: the same examination times) and writes it anew.
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    await waitFor(
      'content.parquet rewritten',
      async () => (await rowsNow()).version === CONTENT_SCHEMA_VERSION,
      30_000,
    )
    assert.deepEqual((await rowsNow()).rows, before.rows)
    assert.deepEqual((await list()).pins, pinned)
  })
})

describe('storage report', () => {
  let s: DaemonEnv
  let sbin: string
  const run = (args: string[]) => runIpfs(sbin, args, { ipfsPath: s.ipfsPath, timeoutMs: 120_000 })
  const roots: string[] = []
  before(async () => {
    const repo = await initTestRepo()
    sbin = repo.bin
    s = await daemonEnv({ ipfsPath: repo.ipfsPath })
    const files = await makeTempDir('storage')
    const shared = Buffer.alloc(300_000)
    for (let i = 0; i < shared.length; i++) shared[i] = (i * 40503) >>> 8
    for (const name of ['one', 'two']) {
      await mkdir(join(files, name))
      await writeFile(join(files, name, 'shared.bin'), shared)
      await writeFile(join(files, name, 'own.txt'), `only in ${name}\n`)
      roots.push((await run(['add', '-rQ', '--pin-name', `tree ${name}`, join(files, name)])).trim())
    }
    const start = await s.cli(['daemon', 'start', '--interval', '3600'])
    assert.equal(start.code, 0, start.stderr)
  })
  after(async () => {
    await s?.cli(['daemon', 'stop'])
  })

  it('counts the bytes of all pins once (what dag stat of every root says), and lists the largest with names', async () => {
    const all = JSON.parse(
      await run(['dag', 'stat', '--offline', '--progress=false', '--enc=json', ...(await pinnedRoots())]),
    ) as { TotalSize: number; SharedSize: number }
    const r = await s.cli(['storage', 'report', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as {
      pinned_bytes: number
      shared_bytes: number
      repo_size_bytes: number
      storage_max_bytes: number
      unpinned_bytes: null
      largest: Array<{ cid: string; size: number; name: string | null }>
      growth_bytes_per_day: null
      reasons: Record<string, string>
    }
    // Kubo's TotalSize counts each block once; SharedSize is what the sum of the DAG sizes counts again.
    assert.equal(report.pinned_bytes, all.TotalSize)
    assert.equal(report.shared_bytes, all.SharedSize)
    assert.ok(report.shared_bytes >= 300_000, 'the shared file is counted once')
    const repoStat = JSON.parse(await run(['repo', 'stat', '--size-only', '--enc=json'])) as {
      StorageMax: number
    }
    assert.equal(report.storage_max_bytes, repoStat.StorageMax)
    assert.ok(report.repo_size_bytes > 0)
    assert.equal(report.unpinned_bytes, null)
    assert.match(report.reasons.unpinned_bytes ?? '', /MFS/)
    assert.equal(report.growth_bytes_per_day, null)
    assert.ok(report.reasons.growth_bytes_per_day)
    const sizes = report.largest.map((l) => l.size)
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => b - a),
    )
    const names = report.largest
      .filter((l) => roots.includes(l.cid))
      .map((l) => l.name)
      .sort()
    assert.deepEqual(names, ['tree one', 'tree two'])
    const text = await s.cli(['storage', 'report'])
    assert.match(text.stdout, /pinned: +\d+(\.\d)? KiB, of which \d+(\.\d)? KiB shared by several pins/)
    assert.match(text.stdout, /largest pins:/)
    // Unnamed pins among the largest leave no spaces at the end of their line.
    assert.ok(report.largest.some((l) => !l.name))
    assert.doesNotMatch(text.stdout, / +$/m)
  })

  it('says why the union is not known when a pin is direct', async () => {
    const dir = await makeTempDir('direct')
    await writeFile(join(dir, 'd.txt'), 'a direct pin\n')
    const cid = (await run(['add', '-Q', '--pin=false', join(dir, 'd.txt')])).trim()
    assert.equal((await s.cli(['pin', 'add', '--direct', cid])).code, 0)
    assert.equal((await s.cli(['index', 'refresh'])).code, 0)
    const report = JSON.parse((await s.cli(['storage', 'report', '--json'])).stdout) as {
      pinned_bytes: number | null
      reasons: Record<string, string>
    }
    assert.equal(report.pinned_bytes, null)
    assert.match(report.reasons.pinned_bytes ?? '', /1 direct pins/)
  })

  it("counts the pins added since the first index and their bytes from the files' footers, as the pin events and lookups would", async () => {
    // One pin made by Kubo alone (the next listing finds it), one through ipfs-kit.
    const dir = await makeTempDir('recent')
    await writeFile(join(dir, 'new.txt'), 'pinned by Kubo after the first index\n')
    const byKubo = (await run(['add', '-Q', join(dir, 'new.txt')])).trim()
    await writeFile(join(dir, 'block'), 'pinned through ipfs-kit after the first index')
    const block = (await run(['block', 'put', '--cid-codec=raw', join(dir, 'block')])).trim()
    assert.equal((await s.cli(['pin', 'add', block])).code, 0)
    assert.equal((await s.cli(['index', 'refresh'])).code, 0)
    // What the rows say: the pins first seen exactly (after the first index), each sized by Kubo.
    const listed = JSON.parse((await s.cli(['pin', 'list', '--limit', '0', '--json'])).stdout) as {
      pins: Array<{ cid: string; first_seen: string; first_seen_exact: boolean }>
    }
    const added = [...new Set(listed.pins.filter((p) => p.first_seen_exact).map((p) => p.cid))].sort()
    assert.ok(added.includes(byKubo) && added.includes(block), `${added}`)
    let bytes = 0
    for (const cid of added)
      bytes += (
        JSON.parse(await run(['dag', 'stat', '--offline', '--progress=false', '--enc=json', cid])) as {
          TotalSize: number
        }
      ).TotalSize
    const report = JSON.parse((await s.cli(['storage', 'report', '--json'])).stdout) as {
      pins_added_last_day: number
      pins_added_last_day_bytes: number
      reasons: Record<string, string>
    }
    assert.equal(report.pins_added_last_day, added.length)
    assert.equal(report.pins_added_last_day_bytes, bytes, JSON.stringify(report.reasons))
    // Both footers list them (so no lookup was made), and without the lists the events and
    // lookups give the same answer.
    const peerId = (await readRepoConfig(s.ipfsPath))?.peerId ?? ''
    const pins = await openIndexFile(indexFilePath(s.kitPath, 'pins'), 'pins', peerId)
    const content = await openContent(s.kitPath, peerId)
    try {
      const recent = JSON.parse(pins.header.kv[PINS_META.recentPins] ?? 'null') as {
        pins: Array<[string, number]>
        count: number
      }
      assert.deepEqual(recent.pins.map(([cid]) => cid).sort(), added)
      assert.equal(recent.count, added.length)
      const sizes = JSON.parse(content?.header.kv[CONTENT_META.recentSizes] ?? 'null') as Record<
        string,
        number
      >
      assert.deepEqual(Object.keys(sizes).sort(), added)
      const without = (f: OpenIndexFile, key: string): OpenIndexFile => ({
        ...f,
        header: {
          ...f.header,
          kv: Object.fromEntries(Object.entries(f.header.kv).filter(([k]) => k !== key)),
        },
      })
      assert.ok(content)
      const fromFooters = await recentPins(s.kitPath, peerId, pins, content)
      const looked = await recentPins(
        s.kitPath,
        peerId,
        without(pins, PINS_META.recentPins),
        without(content, CONTENT_META.recentSizes),
      )
      assert.deepEqual(fromFooters, looked)
      assert.equal(looked.pins_added_last_day, added.length)
    } finally {
      await pins.close()
      await content?.close()
    }
  })

  async function pinnedRoots(): Promise<string[]> {
    const out = await run(['pin', 'ls', '--type=recursive', '--quiet'])
    return out.split('\n').filter(Boolean)
  }
})
