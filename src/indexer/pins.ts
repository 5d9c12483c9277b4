// The pin collector: streams the node's pinset (`pin/ls` recursive, then direct: never `all` or
// `indirect`, which walk every DAG), sorts it by CID, and writes pins.parquet atomically, unless
// the pinset is the same as in the file already there.
import { createHash } from 'node:crypto'
import { IndexRejectedError } from '../errors.js'
import { verifyAllGroups } from '../store/integrity.js'
import { indexFilePath, PINS_META, pinsCheckedPath } from '../store/layout.js'
import { openIndexFile } from '../store/reader.js'
import { writeIndexFileAtomic, writeJsonAtomic } from '../store/writer.js'
import type { CollectContext, Collector, CollectorOutcome } from './loop.js'

export const PINS_SCHEMA_VERSION = 2
/** Rows per row group: small enough that finding one CID reads little, large enough to compress well. */
export const PINS_ROW_GROUP_SIZE = 50_000
const PINSET_HASH_KEY = PINS_META.pinsetSha256
const COUNT_RECURSIVE_KEY = PINS_META.countRecursive
const COUNT_DIRECT_KEY = PINS_META.countDirect

export interface PinCollectorOptions {
  kitPath: string
  writer: string
  /** Called with the counts per type after each successful run (for the storage state). */
  onCounts?: (counts: { recursive: number; direct: number }) => void
}

export function pinCollector(options: PinCollectorOptions): Collector {
  const path = indexFilePath(options.kitPath, 'pins')
  return {
    name: 'pins',
    async run(ctx: CollectContext): Promise<CollectorOutcome> {
      const cids: string[] = []
      const types: string[] = []
      const names: Array<string | null> = []
      for (const type of ['recursive', 'direct'] as const) {
        for await (const pin of ctx.rpc.pinLs({ type, names: true }, { signal: ctx.signal })) {
          cids.push(pin.cid)
          types.push(type)
          names.push(pin.name)
        }
      }
      const order = cids.map((_, i) => i)
      order.sort((a, b) => {
        const x = cids[a] as string
        const y = cids[b] as string
        return x < y ? -1 : x > y ? 1 : (types[a] as string) < (types[b] as string) ? -1 : 1
      })
      const hash = createHash('sha256')
      const sorted = {
        cid: new Array<string>(order.length),
        type: new Array<string>(order.length),
        name: new Array<string | null>(order.length),
      }
      let recursive = 0
      order.forEach((i, k) => {
        const cid = cids[i] as string
        const type = types[i] as string
        const name = names[i] ?? null
        sorted.cid[k] = cid
        sorted.type[k] = type
        sorted.name[k] = name
        if (type === 'recursive') recursive++
        hash.update(`${cid}\t${type}\t${name ?? ''}\n`)
      })
      const digest = hash.digest('hex')
      const counts = { recursive, direct: order.length - recursive }
      options.onCounts?.(counts)

      const checked = () =>
        writeJsonAtomic(pinsCheckedPath(options.kitPath), {
          peer_id: ctx.peerId,
          pinset_sha256: digest,
          checked_at: new Date().toISOString(),
        })
      if ((await previousPinsetHash(path, ctx.peerId)) === digest) {
        await checked()
        return { wrote: false, rows: order.length }
      }

      const now = Date.now()
      await writeIndexFileAtomic(
        path,
        {
          kind: 'pins',
          schemaVersion: PINS_SCHEMA_VERSION,
          writer: options.writer,
          peerId: ctx.peerId,
          kuboVersion: ctx.kuboVersion,
          generatedAt: new Date(now),
          extra: {
            [PINSET_HASH_KEY]: digest,
            [COUNT_RECURSIVE_KEY]: String(counts.recursive),
            [COUNT_DIRECT_KEY]: String(counts.direct),
          },
        },
        [
          { name: 'cid', data: sorted.cid, type: 'STRING' },
          { name: 'type', data: sorted.type, type: 'STRING' },
          { name: 'name', data: sorted.name, type: 'STRING', nullable: true },
          { name: 'indexed_at', data: sorted.cid.map(() => now), type: 'TIMESTAMP' },
        ],
        order.length,
        { rowGroupSize: PINS_ROW_GROUP_SIZE },
      )
      await checked()
      return { wrote: true, rows: order.length }
    },
  }
}

/**
 * The pinset hash in the current file, if it is a valid file of this node whose every row group
 * matches its checksum: a damaged file is rewritten even when the pinset did not change.
 */
async function previousPinsetHash(path: string, peerId: string): Promise<string | null> {
  try {
    const file = await openIndexFile(path, 'pins', peerId)
    try {
      await verifyAllGroups(file.buffer, file.metadata)
      return file.header.kv[PINSET_HASH_KEY] ?? null
    } finally {
      await file.close()
    }
  } catch (err) {
    if (err instanceof IndexRejectedError) return null
    throw err
  }
}
