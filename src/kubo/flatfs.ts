// Kubo's blocks read straight from its flatfs folder: where the repository is on this machine and
// keeps its blocks in flatfs (what `ipfs init` makes without a datastore profile), the content
// collector reads each pin's root block from its file rather than through the RPC API. Kubo
// spends about as much CPU to answer `cat` or `block/get` of a root as `dag stat` of it, so that
// reading roots through it doubled what examining a pin cost Kubo (docs/BENCHMARKS.md).
//
// Read only; nothing is written, locked or listed. Every block read is checked against the hash
// its CID names, so a block half written, removed by `repo gc`, or damaged on disk reads as
// absent (the caller then asks Kubo), never as other bytes. The folder is Kubo's own
// (Datastore.Spec in $IPFS_PATH/config, mounted at /blocks), its sharding the SHARDING file
// flatfs keeps in it, read by datastore-core (the JavaScript side of the same on-disk format);
// a block's key is its multihash in upper-case base32 without padding (Kubo's
// dshelp.MultihashToDsKey), its file `<shard>/<key>.data`.
import { createHash } from 'node:crypto'
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { specLeaves } from './datastore-watch.js'

const SHA2_256 = 0x12
/** No block is larger (Kubo refuses blocks over 2 MiB without --allow-big-block; 4 MiB allows for that). */
const MAX_BLOCK_FILE = 4 * 1024 * 1024

export interface BlockFiles {
  /** The folder the blocks are read from. */
  readonly folder: string
  /**
   * The block whose multihash this is, checked against it; null when it has no file here (not
   * local, or in a store of another kind: Kubo's filestore, say), when its bytes do not match,
   * or when its hash function is not sha2-256 (read through Kubo instead).
   */
  read(multihash: { code: number; digest: Uint8Array; bytes: Uint8Array }): Uint8Array | null
  /** Reads that failed for a reason other than a missing file, and the first such reason. */
  failures(): { count: number; first: string | null }
}

/**
 * The flatfs folder of the repository at ipfsPath, if the node whose peer ID is peerId keeps its
 * blocks there; else why not (any other datastore, another node's repository, an unreadable
 * config).
 */
export async function openBlockFiles(
  ipfsPath: string,
  peerId: string,
): Promise<BlockFiles | { reason: string }> {
  let config: { Identity?: { PeerID?: unknown }; Datastore?: { Spec?: unknown } }
  try {
    config = JSON.parse(readFileSync(join(ipfsPath, 'config'), 'utf8'))
  } catch (err) {
    return { reason: `cannot read ${join(ipfsPath, 'config')}: ${(err as Error).message}` }
  }
  if (config.Identity?.PeerID !== peerId)
    return { reason: `the repository at ${ipfsPath} is not that of the node indexed (${peerId})` }
  const leaves = specLeaves(config.Datastore?.Spec, ipfsPath)
  // Without a /blocks mount, blocks are in the datastore at '/'.
  const blocks = leaves?.find((l) => l.mountpoint === '/blocks') ?? leaves?.find((l) => l.mountpoint === '/')
  if (blocks?.type !== 'flatfs' || blocks.mountpoint !== '/blocks' || blocks.folder === null)
    return { reason: `its blocks are not in a flatfs folder (Datastore.Spec: ${blocks?.type ?? 'unknown'})` }
  const folder = blocks.folder
  let shardFunc: string
  try {
    shardFunc = readFileSync(join(folder, 'SHARDING'), 'utf8').trim()
  } catch (err) {
    return { reason: `cannot read ${join(folder, 'SHARDING')}: ${(err as Error).message}` }
  }
  const [{ parseShardFun }, { base32upper }] = await Promise.all([
    import('datastore-core/shard'),
    import('multiformats/bases/base32'),
  ])
  let shard: { fun(key: string): string }
  try {
    shard = parseShardFun(shardFunc)
  } catch (err) {
    return { reason: `${join(folder, 'SHARDING')}: ${(err as Error).message}` }
  }
  let failed = 0
  let first: string | null = null
  // Read into this, one read a block: a read that returns less than asked has reached the file's
  // end (a regular file), so no stat call is needed for its size; a file filling it is too large.
  const scratch = Buffer.allocUnsafe(MAX_BLOCK_FILE + 1)
  const base = `${folder}/`
  return {
    folder,
    failures: () => ({ count: failed, first }),
    read(multihash) {
      if (multihash.code !== SHA2_256) return null
      const key = base32upper.baseEncode(multihash.bytes)
      const file = `${base}${shard.fun(key)}/${key}.data`
      let fd: number | undefined
      try {
        // Non-blocking: a FIFO planted where a block would be fails the read instead of waiting
        // for a writer (for a regular file the flag changes nothing).
        fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
        const size = readSync(fd, scratch, 0, scratch.length, 0)
        if (size > MAX_BLOCK_FILE) return null
        const bytes = scratch.subarray(0, size)
        if (!createHash('sha256').update(bytes).digest().equals(multihash.digest)) return null
        return new Uint8Array(bytes)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          failed++
          first ??= `${file}: ${(err as Error).message}`
        }
        return null
      } finally {
        if (fd !== undefined) closeSync(fd)
      }
    },
  }
}
