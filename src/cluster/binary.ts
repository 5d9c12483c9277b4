// Which IPFS Cluster peer binary (ipfs-cluster-service) to run, in DESIGN.md's order:
// IPFS_KIT_CLUSTER_BIN, config cluster.binary, then PATH. Cluster is not on the package
// registries ipfs-kit installs from, so there is no download and no build of our own: when none
// is found, the error says where to get it.
import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { promisify } from 'node:util'
import type { Setting } from '../config/config.js'
import type { Env } from '../config/paths.js'
import { ClusterBinaryNotFoundError } from '../errors.js'
import { onPath } from '../kubo/binary.js'

const execFileP = promisify(execFile)

export type ClusterBinarySource = 'env' | 'config' | 'path'

export interface ResolvedCluster {
  path: string
  source: ClusterBinarySource
  /** From `ipfs-cluster-service --version`, e.g. 1.1.6. */
  version: string
  reason: string
}

const REASONS: Record<ClusterBinarySource, string> = {
  env: 'set by IPFS_KIT_CLUSTER_BIN',
  config: 'set by cluster.binary in config.yaml',
  path: 'the first ipfs-cluster-service on PATH',
}

/** Where to get Cluster, for errors and `doctor`. */
export const CLUSTER_GET_HINT =
  'get ipfs-cluster-service from https://dist.ipfs.tech/#ipfs-cluster-service, or build it from github.com/ipfs-cluster/ipfs-cluster (`go build ./cmd/ipfs-cluster-service`), then put it on PATH or set IPFS_KIT_CLUSTER_BIN'

/** Runs `<bin> --version`; throws with the binary's own words when it does not work. */
export async function clusterVersionOf(bin: string, timeoutMs = 15_000): Promise<string> {
  try {
    await access(bin, constants.X_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(code === 'ENOENT' ? 'no such file' : `not executable (${code})`)
  }
  try {
    const { stdout } = await execFileP(bin, ['--version'], { timeout: timeoutMs })
    const version = /(\d+\.\d+\.\d+[^\s]*)/.exec(stdout)?.[1]
    if (!version || !/ipfs-cluster-service/.test(stdout))
      throw new Error(
        `'--version' printed ${JSON.stringify(stdout.trim().slice(0, 80))}, not ipfs-cluster-service's version`,
      )
    return version
  } catch (err) {
    const e = err as { stderr?: string; message: string; killed?: boolean }
    if (e.killed) throw new Error(`'--version' did not finish within ${timeoutMs} ms`)
    throw new Error(`'--version' failed: ${(e.stderr || e.message).trim().split('\n')[0]}`)
  }
}

/** Finds ipfs-cluster-service. `configured` is the effective `cluster.binary` (which carries IPFS_KIT_CLUSTER_BIN). */
export async function resolveClusterBinary(
  options: { env?: Env; configured?: Setting<string | number | boolean | null> } = {},
): Promise<ResolvedCluster> {
  const env = options.env ?? process.env
  const c = options.configured
  const explicit =
    c && typeof c.value === 'string' && (c.origin === 'env' || c.origin === 'file')
      ? { source: c.origin === 'env' ? ('env' as const) : ('config' as const), path: c.value }
      : env.IPFS_KIT_CLUSTER_BIN
        ? { source: 'env' as const, path: env.IPFS_KIT_CLUSTER_BIN }
        : null
  if (explicit) {
    try {
      return { ...explicit, version: await clusterVersionOf(explicit.path), reason: REASONS[explicit.source] }
    } catch (err) {
      throw new ClusterBinaryNotFoundError(
        `the Cluster binary ${explicit.path} (${REASONS[explicit.source]}) does not work: ${(err as Error).message}`,
        {
          hint:
            explicit.source === 'env'
              ? 'fix or unset IPFS_KIT_CLUSTER_BIN'
              : `fix or remove cluster.binary in ${c?.source ?? 'config.yaml'}`,
        },
      )
    }
  }
  const found = await onPath(env, 'ipfs-cluster-service')
  if (found === null)
    throw new ClusterBinaryNotFoundError(
      'no ipfs-cluster-service found (IPFS_KIT_CLUSTER_BIN and cluster.binary are not set, and none is on PATH)',
      { hint: CLUSTER_GET_HINT },
    )
  try {
    return { path: found, source: 'path', version: await clusterVersionOf(found), reason: REASONS.path }
  } catch (err) {
    throw new ClusterBinaryNotFoundError(`${found} (on PATH) does not work: ${(err as Error).message}`, {
      hint: CLUSTER_GET_HINT,
    })
  }
}
