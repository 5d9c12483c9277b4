// Finding out what a CID is, from Kubo alone and offline: `dag stat` (size and block count, many
// roots a call; a batch that fails is split until each failure is one root's own), `block/get`
// of the root decoded with @ipld/dag-pb and ipfs-unixfs (kind, file size), and the first bytes
// of a file for its MIME type (file-type, then a text check). Used by the content collector and
// by readers that ask Kubo when content.parquet cannot answer; writes nothing.
import { KuboRpcError, KuboTimeoutError } from '../errors.js'
import type { KuboRpc } from '../kubo/rpc.js'
import { type ContentKind, type ContentRow, codecName } from '../store/content-format.js'

/** Roots per `dag stat` call: a query string of a few kilobytes. */
export const BATCH = 64
/** Root blocks read at once. */
const ROOT_CONCURRENCY = 4
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
  // A window cut inside a UTF-8 character: leave out up to three bytes at its end.
  for (let cut = 0; cut <= (wholeFile ? 0 : 3); cut++) {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bytes.length - cut))
    } catch {
      continue
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what marks binary data
    if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) break
    if (wholeFile) {
      try {
        JSON.parse(text)
        return 'application/json'
      } catch {
        // text, not JSON
      }
    }
    return 'text/plain'
  }
  return 'application/octet-stream'
}

const UNIXFS_KINDS: Record<string, ContentKind> = {
  file: 'file',
  raw: 'file',
  directory: 'directory',
  'hamt-sharded-directory': 'hamt-directory',
  symlink: 'symlink',
}

/** What the root block says: kind, file size, and the MIME type of a file's first bytes. */
export async function examineRoot(
  rpc: KuboRpc,
  cid: string,
  code: number,
  signal: AbortSignal,
): Promise<Pick<ContentRow, 'kind' | 'file_size_bytes' | 'mime'> & { problem: string | null }> {
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
  if (code === 0x55) {
    return {
      kind: 'raw',
      file_size_bytes: null,
      mime: await detectMime(block.subarray(0, SNIFF_BYTES), block.length <= SNIFF_BYTES),
      problem: null,
    }
  }
  if (code === 0x71) return { kind: 'dag-cbor', file_size_bytes: null, mime: null, problem: null }
  if (code !== 0x70) return { kind: 'other', file_size_bytes: null, mime: null, problem: null }
  const [{ decode }, { UnixFS }] = await Promise.all([import('@ipld/dag-pb'), import('ipfs-unixfs')])
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
    const timedOut = err instanceof KuboTimeoutError
    const text = message(err)
    out.set(cids[0] as string, {
      failure: timedOut
        ? `dag stat did not finish within ${dagTimeoutMs / 1000} s (a very large DAG?)`
        : text,
      missing: /not found locally|could not find/i.test(text),
      timedOut,
    })
  }
}

/** Examines these CIDs (at most BATCH at a time is best) and returns a row for each. */
export async function examineCids(
  rpc: KuboRpc,
  cids: string[],
  options: { signal: AbortSignal; dagTimeoutMs: number },
): Promise<ContentRow[]> {
  const stats = new Map<string, StatResult>()
  await statAll(rpc, cids, options.signal, options.dagTimeoutMs, stats)
  const { CID } = await import('multiformats/cid')
  const rows: ContentRow[] = new Array(cids.length)
  // Root blocks a few at a time: each is one small call, and Kubo answers them in parallel.
  let next = 0
  const worker = async () => {
    while (next < cids.length) {
      const at = next++
      rows[at] = await rowOf(cids[at] as string)
    }
  }
  await Promise.all(Array.from({ length: Math.min(ROOT_CONCURRENCY, cids.length) }, worker))
  return rows

  async function rowOf(cid: string): Promise<ContentRow> {
    const code = CID.parse(cid).code
    const root = await examineRoot(rpc, cid, code, options.signal)
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
  }
}
