// `ipfs-kit doctor`: checks every piece ipfs-kit needs (the Kubo binary, the configuration, the
// repository, the RPC API, the index files) and says for each what is wrong and what to do.
import { access } from 'node:fs/promises'
import { type ConfigKey, type IpfsKitConfig, loadConfig } from '../config/config.js'
import { type Env, ipfsKitPath, ipfsRepoPath } from '../config/paths.js'
import { IpfsKitError, KuboBinaryNotFoundError } from '../errors.js'
import { describeAddress } from '../kubo/address.js'
import { resolveKuboBinary } from '../kubo/binary.js'
import { rpcFor } from '../kubo/connect.js'
import { findKuboEndpoint } from '../kubo/endpoint.js'
import { readApiFile, readRepoConfig, readRepoVersion, repoLockHolder } from '../kubo/repo.js'
import {
  clusterPinsPath,
  contentPath,
  type FileKind,
  INDEX_FILES,
  type IndexFileKind,
  indexFilePath,
  PIN_SUBSETS,
  PINS_META,
  pinSubsetPath,
  pinsDeltaPath,
} from '../store/layout.js'
import { checkIndexFile } from '../store/reader.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

interface Check {
  status: CheckStatus
  /** What is wrong, when status is not ok. */
  problem?: string
  /** What to do about it. */
  fix?: string
}

export interface DoctorReport {
  ok: boolean
  ipfs_kit_path: string
  ipfs_path: string
  kubo_binary: Check & {
    path: string | null
    source: string | null
    version: string | null
    reason: string | null
    tried: Array<{ source: string; path: string | null; problem?: string }>
  }
  config: Check & { file: string; found: boolean }
  repo: Check & {
    path: string
    initialised: boolean
    peer_id: string | null
    repo_version: string | null
    /** pid of the process holding repo.lock; null when none; undefined when it cannot be known here. */
    locked_by_pid: number | null | undefined
  }
  api: Check & {
    address: string | null
    address_source: 'api file' | 'config' | null
    answers: boolean
    peer_id: string | null
    version: string | null
  }
  /** IPFS Cluster (cluster.enabled): its binary, its REST API, its index. A fail only when enabled. */
  cluster: Check & {
    enabled: boolean
    binary: string | null
    binary_version: string | null
    binary_problem: string | null
    api: string | null
    answers: boolean
    peer_id: string | null
    ipfs_peer_id: string | null
    index: {
      status: 'missing' | 'valid' | 'invalid' | 'unchecked'
      reason: string | null
      rows: number | null
    }
  }
  index: Check & {
    path: string
    files: Array<{
      kind: FileKind
      path: string
      status: 'missing' | 'valid' | 'invalid' | 'unchecked'
      reason: string | null
      generated_at: string | null
      rows: number | null
    }>
  }
}

function failure(err: unknown): { problem: string; fix?: string } {
  if (err instanceof IpfsKitError) return { problem: err.message, ...(err.hint ? { fix: err.hint } : {}) }
  return { problem: err instanceof Error ? err.message : String(err) }
}

export async function runDoctor(options: { env?: Env; timeoutMs?: number } = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env
  const kitPath = ipfsKitPath(env)
  const repoPath = ipfsRepoPath(env)
  const timeoutMs = options.timeoutMs ?? 5_000

  // Configuration first: it may name the binary and the API address.
  let config: IpfsKitConfig | null = null
  let configCheck: DoctorReport['config']
  try {
    config = await loadConfig({ env })
    configCheck = { status: 'ok', file: config.file, found: config.fileFound }
  } catch (err) {
    configCheck = { status: 'fail', file: `${kitPath}/config.yaml`, found: true, ...failure(err) }
  }
  const setting = (key: ConfigKey) => config?.settings[key]

  let binary: DoctorReport['kubo_binary']
  try {
    const configured = setting('kubo.binary')
    const kubo = await resolveKuboBinary({ env, ...(configured ? { configured } : {}) })
    binary = {
      status: 'ok',
      path: kubo.path,
      source: kubo.source,
      version: kubo.version,
      reason: kubo.reason,
      tried: kubo.tried,
    }
  } catch (err) {
    binary = {
      status: 'fail',
      path: null,
      source: null,
      version: null,
      reason: null,
      tried: err instanceof KuboBinaryNotFoundError ? [...err.tried] : [],
      ...failure(err),
    }
  }

  let repo: DoctorReport['repo']
  try {
    const repoConfig = await readRepoConfig(repoPath)
    const lockedBy = await repoLockHolder(repoPath)
    repo = repoConfig
      ? {
          status: 'ok',
          path: repoPath,
          initialised: true,
          peer_id: repoConfig.peerId,
          repo_version: await readRepoVersion(repoPath),
          locked_by_pid: lockedBy,
        }
      : {
          status: 'fail',
          path: repoPath,
          initialised: false,
          peer_id: null,
          repo_version: null,
          locked_by_pid: lockedBy,
          problem: `no Kubo repository at ${repoPath} (no config file)`,
          fix: '`ipfs-kit daemon start` initialises it, or set IPFS_PATH to an existing repository',
        }
  } catch (err) {
    repo = {
      status: 'fail',
      path: repoPath,
      initialised: true,
      peer_id: null,
      repo_version: null,
      locked_by_pid: undefined,
      ...failure(err),
    }
  }

  let api: DoctorReport['api']
  try {
    // A configuration that cannot be read names no address or auth: the api file alone then.
    const endpoint = config
      ? await findKuboEndpoint(config, repoPath, { timeoutMs })
      : await readApiFile(repoPath).then((address) =>
          address ? { address, source: 'api file' as const, auth: null, timeoutMs } : null,
        )
    if (!endpoint) {
      api = {
        status: 'fail',
        address: null,
        address_source: null,
        answers: false,
        peer_id: null,
        version: null,
        problem: `no Kubo daemon serves ${repoPath} (it has no api file)`,
        fix: 'start one with `ipfs-kit daemon start`',
      }
    } else {
      const rpc = rpcFor(endpoint)
      const base = {
        address: describeAddress(endpoint.address),
        address_source: endpoint.source === 'config' ? ('config' as const) : ('api file' as const),
      }
      try {
        const [id, version] = await Promise.all([rpc.id(), rpc.version()])
        api = { status: 'ok', ...base, answers: true, peer_id: id.id, version: version.version }
        if (repo.peer_id && id.id !== repo.peer_id) {
          api = {
            ...api,
            status: 'fail',
            problem: `the API at ${base.address} serves peer ${id.id}, but ${repoPath} is peer ${repo.peer_id}`,
            fix: 'point kubo.api (or IPFS_PATH) at the daemon of this repository',
          }
        }
      } catch (err) {
        api = { status: 'fail', ...base, answers: false, peer_id: null, version: null, ...failure(err) }
      }
    }
  } catch (err) {
    api = {
      status: 'fail',
      address: null,
      address_source: null,
      answers: false,
      peer_id: null,
      version: null,
      ...failure(err),
    }
  }

  const files: DoctorReport['index']['files'] = []
  let pinset: string | undefined
  for (const kind of Object.keys(INDEX_FILES) as IndexFileKind[]) {
    const path = indexFilePath(kitPath, kind)
    if (!repo.peer_id) {
      // Without the repository's peer ID no file can be trusted; still say whether it is there.
      const present = await access(path).then(
        () => true,
        () => false,
      )
      files.push({
        kind,
        path,
        status: present ? 'unchecked' : 'missing',
        reason: present ? 'cannot be checked without the repository peer ID' : null,
        generated_at: null,
        rows: null,
      })
      continue
    }
    const check = await checkIndexFile(path, kind, repo.peer_id)
    if (kind === 'pins' && check.status === 'valid') pinset = check.header.kv[PINS_META.pinsetSha256]
    files.push({
      kind,
      path,
      status: check.status,
      reason: check.status === 'invalid' ? check.reason : null,
      generated_at: check.status === 'valid' ? check.header.generatedAt.toISOString() : null,
      rows: check.status === 'valid' ? check.header.rowCount : null,
    })
  }
  // The pins delta exists only between a pin change through ipfs-kit and the next cycle; the
  // content file once the daemon has examined pins.
  for (const [kind, path] of [
    ['pins_delta', pinsDeltaPath(kitPath)],
    ['content', contentPath(kitPath)],
  ] as const) {
    if (!repo.peer_id) break
    const check = await checkIndexFile(path, kind, repo.peer_id)
    if (check.status !== 'missing') {
      files.push({
        kind,
        path,
        status: check.status,
        reason: check.status === 'invalid' ? check.reason : null,
        generated_at: check.status === 'valid' ? check.header.generatedAt.toISOString() : null,
        rows: check.status === 'valid' ? check.header.rowCount : null,
      })
    }
  }
  // The pin subsets (named, direct and recent pins), written with pins.parquet while they are few.
  for (const kind of repo.peer_id ? PIN_SUBSETS : []) {
    const path = pinSubsetPath(kitPath, kind)
    const check = await checkIndexFile(path, kind, repo.peer_id as string)
    if (check.status !== 'missing') {
      const current = check.status === 'valid' && check.header.kv[PINS_META.pinsetSha256] === pinset
      files.push({
        kind,
        path,
        status: check.status,
        reason:
          check.status === 'invalid'
            ? check.reason
            : current
              ? null
              : 'of another pinset than pins.parquet: not used (the next cycle rewrites it)',
        generated_at: check.status === 'valid' ? check.header.generatedAt.toISOString() : null,
        rows: check.status === 'valid' ? check.header.rowCount : null,
      })
    }
  }
  const invalid = files.filter((f) => f.status === 'invalid')
  const missing = files.filter((f) => f.status === 'missing' || f.status === 'unchecked')
  const index: DoctorReport['index'] =
    invalid.length > 0
      ? {
          status: 'fail',
          path: kitPath,
          files,
          problem: `${invalid.length} index file(s) rejected: ${invalid.map((f) => `${f.kind} (${f.reason})`).join('; ')}`,
          fix: 'the manager rewrites them on its next cycle: `ipfs-kit index refresh` (the CLI answers from Kubo meanwhile)',
        }
      : missing.length > 0
        ? {
            status: 'warn',
            path: kitPath,
            files,
            problem: `${missing.length} index file(s) not written yet: ${missing.map((f) => f.kind).join(', ')}`,
            fix: '`ipfs-kit daemon start` writes them (the CLI answers from Kubo meanwhile)',
          }
        : { status: 'ok', path: kitPath, files }

  const cluster = await checkCluster(config, env, kitPath, repo.peer_id, timeoutMs)
  const report: DoctorReport = {
    ok: false,
    ipfs_kit_path: kitPath,
    ipfs_path: repoPath,
    kubo_binary: binary,
    config: configCheck,
    repo,
    api,
    index,
    cluster,
  }
  report.ok = [binary, configCheck, repo, api, index, cluster].every((c) => c.status !== 'fail')
  return report
}

async function checkCluster(
  config: IpfsKitConfig | null,
  env: Env,
  kitPath: string,
  kuboPeerId: string | null,
  timeoutMs: number,
): Promise<DoctorReport['cluster']> {
  const enabled = config?.settings['cluster.enabled'].value === true
  const out: DoctorReport['cluster'] = {
    status: 'ok',
    enabled,
    binary: null,
    binary_version: null,
    binary_problem: null,
    api: null,
    answers: false,
    peer_id: null,
    ipfs_peer_id: null,
    index: { status: 'missing', reason: null, rows: null },
  }
  const problems: string[] = []
  const fixes: string[] = []
  const [
    { resolveClusterBinary },
    { clusterRestOf },
    { clusterPeerIdentity },
    { clusterPath },
    { managerFiles },
  ] = await Promise.all([
    import('../cluster/binary.js'),
    import('../cluster/config.js'),
    import('../store/cluster-pins.js'),
    import('../config/paths.js'),
    import('../manager/files.js'),
  ])
  try {
    const configured = config?.settings['cluster.binary']
    const found = await resolveClusterBinary({ env, ...(configured ? { configured } : {}) })
    out.binary = found.path
    out.binary_version = found.version
  } catch (err) {
    const f = failure(err)
    out.binary_problem = f.problem
    // Needed only to start a peer: attaching to one that answers works without it.
    if (enabled) fixes.push(f.fix ?? '')
  }
  if (!enabled || !config) return out
  try {
    const rest = clusterRestOf(config, timeoutMs)
    out.api = rest.address.multiaddr
    const id = await rest.id()
    out.answers = true
    out.peer_id = id.id
    out.ipfs_peer_id = id.ipfs_id
    if (kuboPeerId && id.ipfs_id && id.ipfs_id !== kuboPeerId)
      problems.push(`the Cluster peer pins on Kubo ${id.ipfs_id}, not on this node (${kuboPeerId})`)
  } catch (err) {
    const f = failure(err)
    if (out.binary === null) problems.push(`${f.problem}; and ${out.binary_problem}`)
    else if (!out.answers) {
      // Not a failure by itself: `daemon start` starts it.
      out.status = 'warn'
      out.problem = f.problem
      out.fix = '`ipfs-kit daemon start` starts the Cluster peer (cluster.enabled)'
    }
  }
  const identity = clusterPeerIdentity(clusterPath(env), managerFiles(kitPath).runDir)
  if (identity) {
    const check = await checkIndexFile(clusterPinsPath(kitPath), 'cluster_pins', identity)
    out.index = {
      status: check.status,
      reason: check.status === 'invalid' ? check.reason : null,
      rows: check.status === 'valid' ? check.header.rowCount : null,
    }
    if (check.status === 'invalid') problems.push(`cluster_pins.parquet rejected: ${check.reason}`)
  } else out.index = { status: 'unchecked', reason: 'the Cluster peer is not known yet', rows: null }
  if (problems.length > 0) {
    out.status = 'fail'
    out.problem = problems.join('; ')
    out.fix = fixes.filter(Boolean).join('; ') || 'see `ipfs-kit daemon status` and logs/cluster.log'
  }
  return out
}
