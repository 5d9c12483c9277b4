// A throwaway real Kubo for one test file: a temp IPFS_PATH, `ipfs init --profile test`
// (loopback, port 0, no bootstrap), the port read from the `api` file, and a stop that always
// runs, including when a test fails or the test process exits early.
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseApiMultiaddr } from '../../src/kubo/address.js'
import { resolveKuboBinary } from '../../src/kubo/binary.js'
import { initRepo, runIpfs, type SpawnedDaemon, spawnDaemon } from '../../src/kubo/process.js'
import { readApiFile } from '../../src/kubo/repo.js'
import { KuboRpc } from '../../src/kubo/rpc.js'

export interface TestKubo {
  bin: string
  ipfsPath: string
  rpc: KuboRpc
  peerId: string
  daemon: SpawnedDaemon
  /** Runs the ipfs CLI against this node and returns stdout. */
  ipfs(args: string[], timeoutMs?: number): Promise<string>
  /** Stops the daemon (SIGTERM, then SIGKILL) and removes the repository. Safe to call twice. */
  stop(): Promise<void>
}

export interface StartKuboOptions {
  /** `ipfs config` edits applied after init, as [key, JSON value]. */
  config?: Array<[string, unknown]>
  daemonArgs?: string[]
  /** Keep the repository folder after stop (the caller removes it). */
  keepRepo?: boolean
  /** Use this folder as IPFS_PATH instead of a new temp folder. */
  ipfsPath?: string
}

const running = new Set<SpawnedDaemon>()
process.once('exit', () => {
  // Last resort when a test process dies without running its after() hooks.
  for (const d of running) d.child.kill('SIGKILL')
})

let binPromise: Promise<string> | undefined
/** The Kubo binary every test uses, resolved once per test process. */
export function kuboBin(): Promise<string> {
  binPromise ??= resolveKuboBinary().then((k) => k.path)
  return binPromise
}

/** The folders this test process made, removed when it exits (IPFS_KIT_TEST_KEEP=1 keeps them, to look into a failure). */
const made: string[] = []
process.once('exit', () => {
  if (process.env.IPFS_KIT_TEST_KEEP) return
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 })
    } catch {
      // A process still writing there (a Kubo a failed test left behind): the system's /tmp
      // cleaning takes it.
    }
  }
})

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ipfs-kit-${prefix}-`))
  made.push(dir)
  return dir
}

/** Creates and initialises a repository without starting a daemon. */
export async function initTestRepo(
  options: StartKuboOptions = {},
): Promise<{ bin: string; ipfsPath: string }> {
  const bin = await kuboBin()
  const ipfsPath = options.ipfsPath ?? (await makeTempDir('kubo'))
  await initRepo(bin, ipfsPath, ['test'])
  for (const [key, value] of options.config ?? []) {
    await runIpfs(bin, ['config', '--json', key, JSON.stringify(value)], { ipfsPath })
  }
  return { bin, ipfsPath }
}

export async function startKubo(options: StartKuboOptions = {}): Promise<TestKubo> {
  const { bin, ipfsPath } = await initTestRepo(options)
  const daemon = spawnDaemon(bin, ipfsPath, options.daemonArgs ?? [])
  running.add(daemon)
  let exited = false
  void daemon.exited.then(() => {
    exited = true
    running.delete(daemon)
  })
  const stop = async () => {
    if (!exited) {
      daemon.child.kill('SIGTERM')
      const killer = setTimeout(() => daemon.child.kill('SIGKILL'), 10_000)
      await daemon.exited
      clearTimeout(killer)
    }
    if (!options.keepRepo) await rm(ipfsPath, { recursive: true, force: true })
  }
  try {
    const deadline = Date.now() + 60_000
    let rpc: KuboRpc | undefined
    let peerId = ''
    while (!rpc) {
      if (exited) throw new Error(`Kubo exited during start-up:\n${daemon.outputTail()}`)
      if (Date.now() > deadline) throw new Error(`Kubo did not answer within 60 s:\n${daemon.outputTail()}`)
      try {
        const address = await readApiFile(ipfsPath)
        if (!address) throw new Error('no api file yet')
        const candidate = new KuboRpc({ address, timeoutMs: 5_000, auth: authFromConfig(options) })
        peerId = (await candidate.id()).id
        rpc = candidate
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    return {
      bin,
      ipfsPath,
      rpc,
      peerId,
      daemon,
      ipfs: (args, timeoutMs) => runIpfs(bin, args, { ipfsPath, timeoutMs: timeoutMs ?? 120_000 }),
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** The credentials of the first API.Authorizations entry a test configured, in kubo.auth form. */
function authFromConfig(options: StartKuboOptions): string | null {
  const auth = options.config?.find(([key]) => key === 'API.Authorizations')?.[1] as
    | Record<string, { AuthSecret: string }>
    | undefined
  const first = auth ? Object.values(auth)[0] : undefined
  return first ? first.AuthSecret : null
}

/** The API multiaddr in a repository's `api` file, parsed. */
export async function apiAddressOf(ipfsPath: string) {
  return parseApiMultiaddr(await readFile(join(ipfsPath, 'api'), 'utf8'))
}
