// Where things live: ipfs-kit's own folder (IPFS_KIT_PATH) and the Kubo repository (IPFS_PATH),
// both from the environment with the defaults of DESIGN.md. Cheap: no I/O, safe on the CLI start path.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export type Env = Readonly<Record<string, string | undefined>>

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined
}

/** `IPFS_KIT_PATH`, default `~/.ipfs_kit`. */
export function ipfsKitPath(env: Env = process.env): string {
  return resolve(nonEmpty(env.IPFS_KIT_PATH) ?? join(homedir(), '.ipfs_kit'))
}

/** `IPFS_PATH`, default `~/.ipfs` (Kubo's own convention). */
export function ipfsRepoPath(env: Env = process.env): string {
  return resolve(nonEmpty(env.IPFS_PATH) ?? join(homedir(), '.ipfs'))
}

/** `IPFS_CLUSTER_PATH`, default `~/.ipfs-cluster` (IPFS Cluster's own convention). */
export function clusterPath(env: Env = process.env): string {
  return resolve(nonEmpty(env.IPFS_CLUSTER_PATH) ?? join(homedir(), '.ipfs-cluster'))
}

/** The per-machine cache for things built once, such as Kubo itself (shared with scripts/build-kubo.sh). */
export function machineCachePath(env: Env = process.env): string {
  const explicit = nonEmpty(env.IPFS_KIT_CACHE)
  if (explicit) return resolve(explicit)
  return resolve(nonEmpty(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'ipfs-kit')
}

/** The Kubo version this project builds and tests against. */
export const KUBO_BUILD_VERSION = 'v0.43.1'

/** Where scripts/build-kubo.sh puts the Kubo it builds. */
export function cachedKuboBinaryPath(env: Env = process.env): string {
  return join(machineCachePath(env), `kubo-${KUBO_BUILD_VERSION}`, 'ipfs')
}
