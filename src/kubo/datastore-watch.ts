// A cheap sign that Kubo's pinset may have changed: the size and modification time of every file
// of the datastores that hold the pins (Kubo keeps its pinset in the datastore mounted at '/':
// LevelDB, Pebble or Badger; blocks usually live apart in flatfs, which is not watched). Kubo
// writes a pin change there at once (LevelDB appends it to its log), so an unchanged fingerprint
// means an unchanged pinset; a changed one means only "maybe" (a compaction, a provider record):
// it asks for a listing, never stands for one. Read from $IPFS_PATH/config, no RPC.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'

/** The datastore types whose files are watched (each keeps its files in one folder). */
const WATCHED = new Set(['levelds', 'pebbleds', 'badgerds', 'badger2ds', 'badger4ds'])

interface SpecNode {
  type?: unknown
  path?: unknown
  child?: unknown
  mounts?: unknown
  mountpoint?: unknown
}

/** A datastore of a Datastore.Spec (not a mount, measure or log node), and where it is mounted. */
export interface SpecLeaf {
  mountpoint: string
  type: string
  /** Its folder, made absolute (relative ones are inside the repository). */
  folder: string | null
}

/**
 * The datastores of a Datastore.Spec, through its mount, measure and log nodes; null when the
 * spec has a node this does not know how to walk.
 */
export function specLeaves(spec: unknown, ipfsPath: string): SpecLeaf[] | null {
  const out: SpecLeaf[] = []
  const visit = (node: unknown, mountpoint: string): boolean => {
    const n = node as SpecNode | null
    if (!n || typeof n !== 'object' || typeof n.type !== 'string') return false
    switch (n.type) {
      case 'mount':
        if (!Array.isArray(n.mounts)) return false
        return n.mounts.every((m) =>
          visit(
            m,
            typeof (m as SpecNode).mountpoint === 'string' ? ((m as SpecNode).mountpoint as string) : '',
          ),
        )
      case 'measure':
      case 'log':
        return visit(n.child, mountpoint)
      default:
        out.push({
          mountpoint,
          type: n.type,
          folder: typeof n.path === 'string' ? (isAbsolute(n.path) ? n.path : join(ipfsPath, n.path)) : null,
        })
        return true
    }
  }
  return visit(spec, '/') ? out : null
}

/** The folders to watch, from a Datastore.Spec; null when the spec is one this does not know. */
export function watchedFolders(spec: unknown, ipfsPath: string): string[] | null {
  const leaves = specLeaves(spec, ipfsPath)
  if (!leaves) return null
  const out: string[] = []
  for (const leaf of leaves) {
    // Blocks only; a flatfs at '/' would hold the pins too, in a file per key: not watched.
    if (leaf.type === 'flatfs' && leaf.mountpoint !== '/') continue
    if (!WATCHED.has(leaf.type) || leaf.folder === null) return null
    out.push(leaf.folder)
  }
  return out.length > 0 ? out : null
}

export interface DatastoreWatch {
  /** The fingerprint now, or null when the datastore cannot be watched (then every cycle lists). */
  fingerprint(): string | null
  /** The folders watched (for index status), or why none. */
  describe(): string
}

export function datastoreWatch(ipfsPath: string): DatastoreWatch {
  let folders: string[] | null | undefined
  let why = ''
  const load = () => {
    if (folders !== undefined) return folders
    try {
      const config = JSON.parse(readFileSync(join(ipfsPath, 'config'), 'utf8')) as {
        Datastore?: { Spec?: unknown }
      }
      folders = watchedFolders(config.Datastore?.Spec, ipfsPath)
      if (!folders) why = 'its Datastore.Spec is not one of LevelDB, Pebble or Badger beside flatfs'
    } catch (err) {
      folders = null
      why = `cannot read ${join(ipfsPath, 'config')}: ${(err as Error).message}`
    }
    return folders
  }
  return {
    fingerprint() {
      const dirs = load()
      if (!dirs) return null
      const hash = createHash('sha256')
      try {
        for (const dir of dirs) {
          for (const name of readdirSync(dir).sort()) {
            if (name === 'LOCK') continue
            const st = statSync(join(dir, name), { bigint: true })
            if (st.isFile()) hash.update(`${dir}/${name}\t${st.size}\t${st.mtimeNs}\n`)
          }
        }
      } catch {
        // A file gone between readdir and stat (LevelDB compacting): a change.
        return `changing-${Date.now()}`
      }
      return hash.digest('hex')
    },
    describe() {
      const dirs = load()
      return dirs ? `watching ${dirs.join(', ')}` : `not watching the datastore: ${why}`
    },
  }
}
