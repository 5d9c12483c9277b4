// Finding out what a CID is, from Kubo alone and offline: `dag stat` (size and block count, many
// roots a call; a batch that fails is split until each failure is one root's own); each root
// block from Kubo's own block files where its repository is here and keeps them in flatfs
// (kubo/flatfs.ts: each checked against its CID's hash); else the bytes of small one-block files
// many to a `cat` (a raw root is its file; a one-block dag-pb root that `cat` reads is a UnixFS
// file), and every other root by `block/get`; each root decoded with @ipld/dag-pb and ipfs-unixfs
// (kind, file size), and the first bytes of a larger file read with `cat`; the MIME type from a
// file's first bytes (file-type, then a text check). Used by the content collector and by
// readers that ask Kubo when content.parquet cannot answer; writes nothing.
import { isUtf8 } from 'node:buffer'
import { createHash, randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { KuboRpcError, KuboTimeoutError } from '../errors.js'
import { type Pace, pacer } from '../indexer/pace.js'
import type { BlockFiles } from '../kubo/flatfs.js'
import type { KuboRpc } from '../kubo/rpc.js'
import { type ContentKind, type ContentRow, codecName } from '../store/content-format.js'

/**
 * Roots per `dag stat` call (a query string of some 15 KB): Kubo answers 256 roots a call about
 * a fifth faster per root than 64 (docs/BENCHMARKS.md).
 */
export const BATCH = 256
/** Batches examined at once. */
const PARALLEL = 4
/** Root blocks read at once, one `block/get` each, within a batch. */
const ROOT_CONCURRENCY = 4
/** A one-block root up to this size is read whole, with others, in one `cat` (a call costs more than this many bytes). */
const CAT_WHOLE_MAX = 256 * 1024
/** The most bytes one `cat` of many roots returns. */
const CAT_CALL_MAX_BYTES = 4 * 1024 * 1024
const RAW = 0x55
const DAG_PB = 0x70
const SHA2_256 = 0x12
/** Bytes of a file read for the MIME type: what file-type needs for every format it knows. */
const SNIFF_BYTES = 4100

type FileTypeFromBuffer = (bytes: Uint8Array) => Promise<{ mime: string } | undefined>
let detector: FileTypeFromBuffer | undefined
async function fileTypeOf(bytes: Uint8Array): Promise<string | undefined> {
  detector ??= (await import('file-type')).fileTypeFromBuffer as FileTypeFromBuffer
  return (await detector(bytes))?.mime
}

/**
 * The MIME type of a file from its first bytes: what file-type finds by its magic numbers; else
 * text (UTF-8 without control characters; JSON when the whole file is there and parses); else
 * binary of no known type. Null for an empty file: there is nothing to tell from.
 */
export async function detectMime(bytes: Uint8Array, wholeFile: boolean): Promise<string | null> {
  if (bytes.length === 0) return null
  const known = await fileTypeOf(bytes)
  if (known) return known
  // A window cut inside a UTF-8 character: leave out up to three bytes at its end. Checked on
  // the bytes (a control character is one byte below 0x80 in UTF-8, and no other character
  // has such a byte): no decoding, no exception per file.
  for (let cut = 0; cut <= (wholeFile ? 0 : 3); cut++) {
    const text = bytes.subarray(0, bytes.length - cut)
    if (!isUtf8(text)) continue
    if (hasControlCharacter(text)) break
    if (wholeFile && mayBeJson(text)) {
      try {
        JSON.parse(new TextDecoder().decode(text))
        return 'application/json'
      } catch {
        // text, not JSON
      }
    }
    return 'text/plain'
  }
  return 'application/octet-stream'
}

/** U+0000-0008, U+000B, U+000E-001F, U+007F: what marks binary data (tab, newlines and form feed do not). */
function hasControlCharacter(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f) return true
  }
  return false
}

/** Whether the text begins (after JSON's white space) with a character a JSON value can begin with. */
function mayBeJson(bytes: Uint8Array): boolean {
  // A byte-order mark is not part of the text (the decoder drops it).
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue
    // { [ " - 0-9 t f n
    return (
      b === 0x7b ||
      b === 0x5b ||
      b === 0x22 ||
      b === 0x2d ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x74 ||
      b === 0x66 ||
      b === 0x6e
    )
  }
  return false
}

type Unixfs = Pick<typeof import('@ipld/dag-pb'), 'decode' | 'encode' | 'prepare'> &
  Pick<typeof import('ipfs-unixfs'), 'UnixFS'>
/** @ipld/dag-pb and ipfs-unixfs, loaded once (an import() per root costs more than decoding it). */
let codecs: Unixfs | undefined
async function loadUnixfs(): Promise<Unixfs> {
  const [{ decode, encode, prepare }, { UnixFS }] = await Promise.all([
    import('@ipld/dag-pb'),
    import('ipfs-unixfs'),
  ])
  codecs = { decode, encode, prepare, UnixFS }
  return codecs
}

const UNIXFS_KINDS: Record<string, ContentKind> = {
  file: 'file',
  raw: 'file',
  directory: 'directory',
  'hamt-sharded-directory': 'hamt-directory',
  symlink: 'symlink',
}

/** What the root block says (read with `block/get`): kind, file size, and the MIME type of a file's first bytes. */
export async function examineRoot(
  rpc: KuboRpc,
  cid: string,
  code: number,
  signal: AbortSignal,
): Promise<RootFacts> {
  let block: Uint8Array
  try {
    block = await rpc.blockGet(cid, { offline: true, signal, timeoutMs: 10_000 })
  } catch (err) {
    return {
      kind: null,
      file_size_bytes: null,
      mime: null,
      problem: `the root block cannot be read: ${message(err)}`,
    }
  }
  return factsOfRoot(rpc, cid, code, block, signal)
}

type RootFacts = Pick<ContentRow, 'kind' | 'file_size_bytes' | 'mime'> & { problem: string | null }

/**
 * What this root block says: decoded with @ipld/dag-pb and ipfs-unixfs; the first bytes of a
 * file larger than its root read with `cat`.
 */
async function factsOfRoot(
  rpc: KuboRpc,
  cid: string,
  code: number,
  block: Uint8Array,
  signal: AbortSignal,
): Promise<RootFacts> {
  if (code === RAW)
    return { kind: 'raw', file_size_bytes: null, mime: await mimeOfFile(block), problem: null }
  if (code === 0x71) return { kind: 'dag-cbor', file_size_bytes: null, mime: null, problem: null }
  if (code !== 0x70) return { kind: 'other', file_size_bytes: null, mime: null, problem: null }
  const { decode, UnixFS } = codecs ?? (await loadUnixfs())
  let unixfs: InstanceType<typeof UnixFS>
  try {
    const node = decode(block)
    if (!node.Data) return { kind: 'other', file_size_bytes: null, mime: null, problem: null }
    unixfs = UnixFS.unmarshal(node.Data)
  } catch (err) {
    return { kind: 'other', file_size_bytes: null, mime: null, problem: `not UnixFS: ${message(err)}` }
  }
  const kind = UNIXFS_KINDS[unixfs.type] ?? 'other'
  if (kind !== 'file') return { kind, file_size_bytes: null, mime: null, problem: null }
  const size = Number(unixfs.fileSize())
  // A one-block file holds its bytes in the root; a larger one is read from its first leaves.
  const inline = unixfs.data && unixfs.data.length >= Math.min(size, SNIFF_BYTES) ? unixfs.data : null
  let head: Uint8Array
  try {
    head =
      inline ??
      (await rpc.cat(cid, Math.min(size, SNIFF_BYTES), { offline: true, signal, timeoutMs: 10_000 }))
  } catch (err) {
    return {
      kind,
      file_size_bytes: size,
      mime: null,
      problem: `its first bytes cannot be read: ${message(err)}`,
    }
  }
  return {
    kind,
    file_size_bytes: size,
    mime: await detectMime(head.subarray(0, SNIFF_BYTES), size <= SNIFF_BYTES),
    problem: null,
  }
}

function message(err: unknown): string {
  if (err instanceof KuboRpcError) return err.kuboMessage
  return err instanceof Error ? err.message : String(err)
}

type StatResult = { size: number; blocks: number } | { failure: string; missing: boolean; timedOut: boolean }

/** dag stat of these roots into `out`; a batch that fails is split until each failure is one CID's own. */
export async function statAll(
  rpc: KuboRpc,
  cids: string[],
  signal: AbortSignal,
  dagTimeoutMs: number,
  out: Map<string, StatResult>,
): Promise<void> {
  try {
    const r = await rpc.dagStat(cids, { offline: true, signal, timeoutMs: dagTimeoutMs })
    for (const d of r.dags) out.set(d.cid, { size: d.size, blocks: d.numBlocks })
    for (const c of cids)
      if (!out.has(c))
        out.set(c, { failure: 'Kubo did not report this root', missing: false, timedOut: false })
  } catch (err) {
    if (signal.aborted) throw err
    if (cids.length > 1) {
      const half = Math.ceil(cids.length / 2)
      await statAll(rpc, cids.slice(0, half), signal, dagTimeoutMs, out)
      await statAll(rpc, cids.slice(half), signal, dagTimeoutMs, out)
      return
    }
    const only = cids[0] as string
    const text = message(err)
    // Kubo 0.43 cannot answer for an empty DAG alone (its summary's ratio of shared to total
    // bytes is 0/0, which its JSON encoder refuses); among other roots it answers. Asked again
    // with a root that is never empty and never fetched: an identity CID, its bytes in the CID.
    if (/unsupported value: NaN/.test(text) && cids.length === 1) {
      const companion = await identityCompanion()
      try {
        const r = await rpc.dagStat([only, companion], { offline: true, signal, timeoutMs: dagTimeoutMs })
        const d = r.dags.find((x) => x.cid === only)
        if (d) {
          out.set(only, { size: d.size, blocks: d.numBlocks })
          return
        }
      } catch (again) {
        if (signal.aborted) throw again
      }
    }
    const timedOut = err instanceof KuboTimeoutError
    out.set(only, {
      failure: timedOut
        ? `dag stat did not finish within ${dagTimeoutMs / 1000} s (a very large DAG?)`
        : text,
      missing: /not found locally|could not find/i.test(text),
      timedOut,
    })
  }
}

/** A raw CID whose multihash is these bytes ("identity"): Kubo has it without storing or fetching it. */
async function identityCid(bytes: Uint8Array): Promise<string> {
  const [{ CID }, { identity }] = await Promise.all([
    import('multiformats/cid'),
    import('multiformats/hashes/identity'),
  ])
  return CID.createV1(RAW, identity.digest(bytes)).toString()
}

let companionCid: string | undefined
/** A root never empty and never fetched, to ask `dag stat` of an empty DAG beside. */
async function identityCompanion(): Promise<string> {
  companionCid ??= await identityCid(new TextEncoder().encode('ipfs-kit'))
  return companionCid
}

export interface ExamineOptions {
  signal: AbortSignal
  dagTimeoutMs: number
  /**
   * Kubo's block files (kubo/flatfs.ts), when its repository is here and keeps them in flatfs:
   * each root block is read from its file, checked against its hash, instead of through Kubo.
   */
  blocks?: BlockFiles | null
}

type BatchOptions = ExamineOptions & { pace: Pace }

/**
 * Examines these CIDs and returns a row for each, in their order: in batches of BATCH roots,
 * PARALLEL batches at a time (while Kubo walks one batch, it reads another's roots and this
 * process sniffs a third's bytes: on two cores that is about twice as fast as one at a time).
 * `stop` is asked before each batch begins: once it says so, no more begin, and the rows
 * returned are those of the batches begun (the first CIDs, in order).
 */
export async function examineCids(
  rpc: KuboRpc,
  cids: readonly string[],
  options: ExamineOptions & { stop?: () => boolean },
): Promise<ContentRow[]> {
  // The calls in flight (up to PARALLEL batches, each up to ROOT_CONCURRENCY block reads) each
  // listen to the signal: one signal of their own, so that the caller's holds one listener and
  // Node does not warn of a leak past ten.
  const own = new AbortController()
  setMaxListeners(PARALLEL * (ROOT_CONCURRENCY + 1), own.signal)
  const relay = () => own.abort(options.signal.reason)
  if (options.signal.aborted) relay()
  else options.signal.addEventListener('abort', relay, { once: true })
  // One pacer for every batch: their reads of block files run in turns of the event loop, which
  // batches at once would otherwise each hold for a turn of their own.
  const inner: BatchOptions = { ...options, signal: own.signal, pace: pacer() }
  const batches: ContentRow[][] = []
  let next = 0
  const worker = async () => {
    while (next < cids.length && !own.signal.aborted && !(options.stop?.() ?? false)) {
      const at = next
      next += BATCH
      const slot = batches.length
      batches.push([])
      batches[slot] = await examineBatch(rpc, cids.slice(at, at + BATCH), inner)
    }
  }
  const workers = Math.min(PARALLEL, Math.ceil(cids.length / BATCH))
  try {
    await Promise.all(Array.from({ length: workers }, worker))
  } finally {
    options.signal.removeEventListener('abort', relay)
  }
  options.signal.throwIfAborted()
  return batches.flat()
}

/**
 * One batch: `dag stat` of every root; then each root block from its file where Kubo's block
 * files are at hand; then (of the roots not read so) the small one-block files' bytes in few
 * `cat` calls of many roots each (rawRoots, leafFiles); then every other root's block, one
 * `block/get` each (Kubo has no call that returns many blocks), a few at a time.
 */
async function examineBatch(rpc: KuboRpc, cids: string[], options: BatchOptions): Promise<ContentRow[]> {
  const stats = new Map<string, StatResult>()
  await statAll(rpc, cids, options.signal, options.dagTimeoutMs, stats)
  const { CID } = await import('multiformats/cid')
  const parsed = cids.map((c) => CID.parse(c))
  const codes = parsed.map((c) => c.code)
  const roots = new Map<string, RootFacts>()
  if (options.blocks)
    for (let i = 0; i < cids.length; i++) {
      // A read is a system call or three on the event loop (a few µs from the page cache, where
      // `dag stat` has just put the block): in turns.
      if ((i & 15) === 15) await options.pace()
      const block = options.blocks.read((parsed[i] as (typeof parsed)[number]).multihash)
      if (block)
        roots.set(
          cids[i] as string,
          await factsOfRoot(rpc, cids[i] as string, codes[i] as number, block, options.signal),
        )
    }
  // Roots read together, those dag stat found whole and small enough to read in full: raw
  // roots, and dag-pb roots of one block (a small file, most often).
  const raw: Array<{ cid: string; size: number }> = []
  const leaves: Leaf[] = []
  for (let i = 0; i < cids.length; i++) {
    const stat = stats.get(cids[i] as string)
    if (!stat || !('size' in stat) || stat.size > CAT_WHOLE_MAX || roots.has(cids[i] as string)) continue
    if (codes[i] === RAW) raw.push({ cid: cids[i] as string, size: stat.size })
    else if (codes[i] === DAG_PB && stat.blocks === 1)
      leaves.push({
        cid: cids[i] as string,
        size: stat.size,
        hash: (parsed[i] as (typeof parsed)[number]).multihash,
      })
  }
  for (const group of catGroups(raw)) await rawRoots(rpc, group, options.signal, roots)
  for (const group of catGroups(leaves)) await leafFiles(rpc, group, options.signal, roots)
  // Every other root (and one whose bytes the calls above did not give) on its own.
  let next = 0
  const worker = async () => {
    while (next < cids.length) {
      const at = next++
      const cid = cids[at] as string
      if (!roots.has(cid)) roots.set(cid, await examineRoot(rpc, cid, codes[at] as number, options.signal))
    }
  }
  await Promise.all(Array.from({ length: Math.min(ROOT_CONCURRENCY, cids.length) }, worker))
  return cids.map((cid, i) => {
    const code = codes[i] as number
    const root = roots.get(cid) as RootFacts
    const stat = stats.get(cid)
    const ok = stat && 'size' in stat ? stat : null
    const failed = stat && 'failure' in stat ? stat : null
    return {
      cid,
      dag_size_bytes: ok?.size ?? null,
      blocks: ok?.blocks ?? null,
      codec: codecName(code),
      kind: root.kind,
      file_size_bytes: root.file_size_bytes,
      mime: root.mime,
      complete: ok ? true : failed?.missing ? false : null,
      examined_at: new Date(),
      problem: failed ? failed.failure : root.problem,
    }
  })
}

/** Consecutive runs of roots whose blocks add up to at most CAT_CALL_MAX_BYTES each. */
function* catGroups<T extends { size: number }>(items: readonly T[]): Generator<T[]> {
  let group: T[] = []
  let bytes = 0
  for (const item of items) {
    if (group.length > 0 && bytes + item.size > CAT_CALL_MAX_BYTES) {
      yield group
      group = []
      bytes = 0
    }
    group.push(item)
    bytes += item.size
  }
  if (group.length > 0) yield group
}

/**
 * The facts of these raw roots from one `cat` of them all, cut apart by their lengths. When the
 * call fails (a block removed since dag stat, say) or its length is not the sum, the group is
 * halved and each half read again; a root that fails alone is left out of `out`, for
 * `block/get` to read and report.
 */
async function rawRoots(
  rpc: KuboRpc,
  group: ReadonlyArray<{ cid: string; size: number }>,
  signal: AbortSignal,
  out: Map<string, RootFacts>,
): Promise<void> {
  const total = group.reduce((sum, r) => sum + r.size, 0)
  const bytes = await catOrNull(
    rpc,
    group.map((r) => r.cid),
    total,
    signal,
  )
  if (bytes === null || bytes.length !== total) {
    await inHalves(group, (half) => rawRoots(rpc, half, signal, out))
    return
  }
  let at = 0
  for (const r of group) {
    const block = bytes.subarray(at, at + r.size)
    at += r.size
    out.set(r.cid, { kind: 'raw', file_size_bytes: null, mime: await mimeOfFile(block), problem: null })
  }
}

/** One `cat` of these paths, offline; null when Kubo fails it (the caller reads them apart). */
async function catOrNull(
  rpc: KuboRpc,
  paths: string[],
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | null> {
  try {
    return await rpc.catMany(paths, maxBytes, { offline: true, signal, timeoutMs: 10_000 })
  } catch (err) {
    if (signal.aborted) throw err
    return null
  }
}

/** A group that could not be read together, read again in two halves; a lone root is left out. */
async function inHalves<T>(group: readonly T[], read: (half: T[]) => Promise<void>): Promise<void> {
  if (group.length === 1) return
  const half = Math.ceil(group.length / 2)
  await read(group.slice(0, half))
  await read(group.slice(half))
}

/** A one-block dag-pb root: its CID, its block's size, and the hash its CID names. */
interface Leaf {
  cid: string
  size: number
  hash: { code: number; digest: Uint8Array }
}

/**
 * The facts of these one-block dag-pb roots, if they are UnixFS files, from one `cat` of them
 * all. A file's length is not known before it is read (dag stat counts the block, not the
 * file), so each is followed by a separator: an identity CID whose bytes are 32 random bytes
 * drawn for this call, which Kubo serves from the CID itself. The answer is cut at the
 * separators; unless there are exactly as many as roots, with nothing after the last (a
 * directory among them fails the call; a file holding the separator's bytes cannot be made on
 * purpose, but is caught too), the group is halved as in rawRoots, and a root that fails alone
 * is left to `block/get`. So is a root whose CID is not the hash of the file node of its bytes.
 */
async function leafFiles(
  rpc: KuboRpc,
  group: readonly Leaf[],
  signal: AbortSignal,
  out: Map<string, RootFacts>,
): Promise<void> {
  const separator = await separatorCid()
  const args: string[] = []
  for (const r of group) args.push(r.cid, separator.cid)
  // A file's bytes are fewer than its block's.
  const most = group.reduce((sum, r) => sum + r.size + SEPARATOR_BYTES, 0)
  const bytes = await catOrNull(rpc, args, most, signal)
  const files = bytes && cutAt(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), separator.bytes)
  if (!files || files.length !== group.length) {
    await inHalves(group, (half) => leafFiles(rpc, half, signal, out))
    return
  }
  const { encode, prepare, UnixFS } = codecs ?? (await loadUnixfs())
  for (let i = 0; i < group.length; i++) {
    const file = files[i] as Uint8Array
    const { cid, hash: mh } = group[i] as Leaf
    // `cat` reads a symlink as a file of its target's path (and a UnixFS node of type raw, or one
    // with a mode or mtime, as plain bytes): only a root whose CID is the hash of the one-block
    // file node holding these bytes (made with @ipld/dag-pb and ipfs-unixfs, as `ipfs add` makes
    // it) is taken for that file. Any other is left to `block/get`, which decodes what it is.
    if (mh.code !== SHA2_256) continue
    const node = encode(prepare({ Data: new UnixFS({ type: 'file', data: file }).marshal() }))
    if (!createHash('sha256').update(node).digest().equals(mh.digest)) continue
    out.set(cid, { kind: 'file', file_size_bytes: file.length, mime: await mimeOfFile(file), problem: null })
  }
}

/** The pieces before each separator; null when bytes follow the last one. */
function cutAt(bytes: Buffer, separator: Uint8Array): Uint8Array[] | null {
  const pieces: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    const end = bytes.indexOf(separator, at)
    if (end < 0) return null
    pieces.push(bytes.subarray(at, end))
    at = end + separator.length
  }
  return pieces
}

const SEPARATOR_BYTES = 32
/** A new separator for every call: its bytes cannot be known to whoever made the files. */
async function separatorCid(): Promise<{ cid: string; bytes: Uint8Array }> {
  const bytes = randomBytes(SEPARATOR_BYTES)
  return { cid: await identityCid(bytes), bytes }
}

/** The MIME type of a file from its bytes (all of them, or its first). */
function mimeOfFile(bytes: Uint8Array): Promise<string | null> {
  return detectMime(bytes.subarray(0, SNIFF_BYTES), bytes.length <= SNIFF_BYTES)
}
