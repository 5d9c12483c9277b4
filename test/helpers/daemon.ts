// Runs ipfs-kit daemons in throwaway folders for tests, and makes sure none outlives its test.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after } from 'node:test'
import { isProcessAlive } from '../../src/manager/process-info.js'
import { type CliResult, runCli } from './cli.js'
import { kuboBin, makeTempDir } from './kubo.js'

export interface DaemonEnv {
  env: Record<string, string>
  kitPath: string
  ipfsPath: string
  cli(args: string[], timeoutMs?: number): Promise<CliResult>
  /** `daemon status --json`, parsed. */
  status(): Promise<StatusJson>
}

export interface StatusJson {
  source: string | null
  manager: {
    running: boolean
    pid: number | null
    ready: boolean | null
    event_loop_delay_max_ms?: number | null
    event_loop_delay_p99_ms?: number | null
  }
  kubo: {
    peer_id: string | null
    version: string | null
    mode: 'started' | 'attached' | null
    pid: number | null
    healthy: boolean
    last_health_check: string | null
    restarts: number | null
    last_exit: { at: string; reason: string } | null
  }
  network: { peers: number | null }
  storage: { repo_size_bytes: number | null; pin_count: number | null }
  http: { state: string | null; url: string | null; pinning_endpoint: string | null; error: string | null }
  proxy: { state: string | null; api: string | null; error: string | null; requests: number | null }
  index: {
    running: boolean
    paused: boolean | null
    interval_s: number
    last_updated: string | null
    cycles: number | null
  }
  problems: string[]
}

const envs: DaemonEnv[] = []
after(async () => {
  // Whatever a test left running: stop it (the command also stops an orphaned Kubo).
  for (const d of envs) await d.cli(['daemon', 'stop'], 120_000).catch(() => {})
})

/** Fresh IPFS_PATH and IPFS_KIT_PATH; a repository created by the manager uses Kubo's test profile. */
export async function daemonEnv(
  options: { ipfsPath?: string; extra?: Record<string, string> } = {},
): Promise<DaemonEnv> {
  const root = await makeTempDir('daemon')
  const kitPath = join(root, 'kit')
  const ipfsPath = options.ipfsPath ?? join(root, 'ipfs')
  const env = {
    IPFS_KIT_PATH: kitPath,
    IPFS_PATH: ipfsPath,
    IPFS_KIT_IPFS_BIN: await kuboBin(),
    IPFS_KIT_KUBO_INIT_PROFILES: 'test',
    // Any free port: tests run managers side by side, and the default port is one.
    IPFS_KIT_HTTP_LISTEN: '127.0.0.1:0',
    IPFS_KIT_PROXY_LISTEN: '127.0.0.1:0',
    ...options.extra,
  }
  const d: DaemonEnv = {
    env,
    kitPath,
    ipfsPath,
    cli: (args, timeoutMs) => runCli(args, { env, timeoutMs: timeoutMs ?? 180_000 }),
    status: async () =>
      JSON.parse((await runCli(['daemon', 'status', '--json'], { env })).stdout) as StatusJson,
  }
  envs.push(d)
  return d
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const v = await probe()
      if (v) return v
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
}

export async function managerLog(d: DaemonEnv): Promise<string> {
  return readFile(join(d.kitPath, 'logs', 'manager.log'), 'utf8').catch(() => '')
}

/** True while the process runs (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number | null): boolean {
  return pid !== null && isProcessAlive(pid)
}
