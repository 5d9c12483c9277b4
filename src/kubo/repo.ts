// What can be known about a Kubo repository from its files alone, without RPC: whether it is
// initialised, its peer ID (from `config`), the API address its daemon announced (`api`), and
// which process holds its lock (from /proc/locks on Linux). All of them small files, read
// synchronously: the CLI answers from them, and an asynchronous read costs more than the read
// (and loads fs/promises, which loads more).
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { type ApiAddress, parseApiMultiaddr } from './address.js'

export interface RepoConfigSummary {
  peerId: string
  /** Kubo's `API.Authorizations` names; the secrets themselves are never read into memory here. */
  authorizationNames: string[]
}

/**
 * Reads the peer ID from `$IPFS_PATH/config`; null when the repo is not initialised. Read
 * synchronously: every CLI query starts here, and one small read costs less than a trip through
 * the thread pool (which a CLI that makes no other asynchronous read never has to start).
 */
export async function readRepoConfig(ipfsPath: string): Promise<RepoConfigSummary | null> {
  let text: string
  try {
    text = readFileSync(join(ipfsPath, 'config'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  let config: unknown
  try {
    config = JSON.parse(text)
  } catch (err) {
    throw new Error(`${join(ipfsPath, 'config')} is not valid JSON: ${(err as Error).message}`)
  }
  const identity = (config as { Identity?: { PeerID?: unknown } }).Identity
  if (typeof identity?.PeerID !== 'string' || identity.PeerID === '') {
    throw new Error(`${join(ipfsPath, 'config')} has no Identity.PeerID`)
  }
  const auth = (config as { API?: { Authorizations?: Record<string, unknown> | null } }).API?.Authorizations
  return { peerId: identity.PeerID, authorizationNames: auth ? Object.keys(auth) : [] }
}

/** Reads `$IPFS_PATH/version` (the repo format version); null when absent. */
export async function readRepoVersion(ipfsPath: string): Promise<string | null> {
  try {
    return readFileSync(join(ipfsPath, 'version'), 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** The API address a running daemon wrote to `$IPFS_PATH/api`; null when there is none. */
export async function readApiFile(ipfsPath: string): Promise<ApiAddress | null> {
  let text: string
  try {
    text = readFileSync(join(ipfsPath, 'api'), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  return parseApiMultiaddr(text)
}

/**
 * The pid that holds `$IPFS_PATH/repo.lock`, read from /proc/locks. Kubo takes that lock for
 * as long as a daemon (or any command that opens the repo) runs. Returns `null` when no process
 * holds it, and `undefined` when this cannot be known here (no /proc/locks, no lock file).
 */
export async function repoLockHolder(ipfsPath: string): Promise<number | null | undefined> {
  let inode: number
  let dev: number
  try {
    const st = statSync(join(ipfsPath, 'repo.lock'))
    inode = st.ino
    dev = st.dev
  } catch {
    return null
  }
  let locks: string
  try {
    locks = readFileSync('/proc/locks', 'utf8')
  } catch {
    return undefined
  }
  const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00)
  const major = (dev >> 8) & 0xfff
  for (const line of locks.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 9520 fe:00:9978382 0 EOF"; lines starting "->" are waiters.
    const m = /^\d+:\s+\S+\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line)
    if (!m) continue
    if (
      Number(m[4]) === inode &&
      Number.parseInt(m[2] ?? '', 16) === major &&
      Number.parseInt(m[3] ?? '', 16) === minor
    ) {
      return Number(m[1])
    }
  }
  return null
}
