// What the CLI does to the manager from outside: start it detached and wait until it is ready,
// ask it to stop and wait until it is gone, and clean up after a manager that died (its lock,
// its socket, and the Kubo it had started).
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import {
  KuboProcessError,
  ManagerAlreadyRunningError,
  ManagerCommandError,
  ManagerNotRunningError,
} from '../errors.js'
import { repoLockHolder } from '../kubo/repo.js'
import { callControl } from './control.js'
import { ensurePrivateDirs, type ManagerFiles } from './files.js'
import { readKuboRecord } from './kubo-record.js'
import { readLock, runningManager } from './lock.js'
import type { ManagerStatus } from './manager.js'
import { MANAGER_NODE_FLAGS } from './node-flags.js'
import { isProcessAlive } from './process-info.js'

/** The script the manager runs: the launcher this CLI was started by, or this build's main.js. */
export function cliMain(): string {
  const launcher = (globalThis as { __ipfsKitLauncher?: unknown }).__ipfsKitLauncher
  return typeof launcher === 'string' ? launcher : fileURLToPath(new URL('../cli/main.js', import.meta.url))
}

export async function managerStatus(files: ManagerFiles, timeoutMs = 5_000): Promise<ManagerStatus> {
  return (await callControl(files, { cmd: 'status' }, { timeoutMs })) as ManagerStatus
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

async function readFrom(path: string, offset: number): Promise<string> {
  try {
    const fh = await open(path, 'r')
    try {
      const size = (await fh.stat()).size
      const buf = Buffer.alloc(Math.max(0, size - offset))
      await fh.read(buf, 0, buf.length, offset)
      return buf.toString('utf8')
    } finally {
      await fh.close()
    }
  } catch {
    return ''
  }
}

export interface StartOptions {
  /** Arguments passed on to `daemon start --foreground` in the detached manager. */
  args: string[]
  timeoutMs?: number
  onProgress?: (message: string) => void
}

/**
 * Starts the manager as a detached process (own process group, output to logs/manager.out) and
 * returns its status once it is ready: Kubo answers and the first index cycle is written.
 */
export async function startDetached(files: ManagerFiles, options: StartOptions): Promise<ManagerStatus> {
  const running = await runningManager(files.lock)
  if (running) throw new ManagerAlreadyRunningError(running.pid)
  await ensurePrivateDirs(files)
  const outOffset = await stat(files.managerOut).then(
    (s) => s.size,
    () => 0,
  )
  const out = openSync(files.managerOut, 'a', 0o600)
  // Its V8 flags keep its heap from growing fourfold at a million pins (node-flags.ts).
  const child = spawn(
    process.execPath,
    [...MANAGER_NODE_FLAGS, cliMain(), 'daemon', 'start', '--foreground', ...options.args],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, IPFS_KIT_DETACHED: '1' },
    },
  )
  closeSync(out)
  let exited: string | null = null
  child.once('exit', (code, signal) => {
    exited = signal ? `killed by ${signal}` : `exited with code ${code}`
  })
  child.unref()
  const deadline = Date.now() + (options.timeoutMs ?? 300_000)
  let lastProgress = ''
  const progress = (m: string) => {
    if (m !== lastProgress) options.onProgress?.(m)
    lastProgress = m
  }
  progress(`starting the ipfs-kit manager (pid ${child.pid})`)
  while (true) {
    if (exited) {
      // Lost a race with another start: that one runs, and this start says which it is.
      const winner = await runningManager(files.lock)
      if (winner && winner.pid !== child.pid) throw new ManagerAlreadyRunningError(winner.pid)
      const output = (await readFrom(files.managerOut, outOffset)).trim()
      throw new KuboProcessError(
        `the ipfs-kit manager ${exited} before it was ready${output ? `:\n${output}` : ''}`,
        {
          hint: 'see `ipfs-kit daemon logs` (and `ipfs-kit daemon logs --kubo` for Kubo output)',
        },
      )
    }
    if (Date.now() > deadline) {
      throw new KuboProcessError(
        `the ipfs-kit manager (pid ${child.pid}) was not ready within ${(options.timeoutMs ?? 300_000) / 1000} s; it goes on starting in the background`,
        { hint: 'see `ipfs-kit daemon status` and `ipfs-kit daemon logs`' },
      )
    }
    try {
      const st = await managerStatus(files, 2_000)
      if (st.manager.pid === child.pid) {
        if (st.manager.ready) return st
        if (st.kubo.healthy) {
          const pins = st.index.collectors.pins
          progress(
            pins?.last_error
              ? `Kubo is ready; indexing failed so far: ${pins.last_error}`
              : 'Kubo is ready; writing the first index',
          )
        } else progress('waiting for Kubo to answer')
      }
    } catch (err) {
      // Not listening yet, or busy (writing a large first index blocks it for seconds): keep
      // waiting; only its exit or the deadline ends the wait.
      if (err instanceof ManagerCommandError) progress('the manager is busy writing the first index')
      else if (!(err instanceof ManagerNotRunningError)) throw err
    }
    await sleep(100)
  }
}

export interface StopResult {
  /** pid of the manager that was stopped, or null when none ran. */
  stoppedPid: number | null
  /** What was cleaned up after a manager that had died. */
  cleaned: string[]
}

/** Asks the running manager to stop and waits until its process is gone; cleans up after a dead one. */
export async function stopManager(files: ManagerFiles, timeoutMs = 120_000): Promise<StopResult> {
  const holder = await readLock(files.lock)
  const alive = holder !== null && isProcessAlive(holder.pid, holder.start_time)
  if (holder && alive) {
    try {
      await callControl(files, { cmd: 'daemon.stop' }, { timeoutMs: 10_000 })
    } catch (err) {
      // The manager runs but does not answer: ask it the way a service manager would.
      if (!(err instanceof ManagerNotRunningError)) throw err
      process.kill(holder.pid, 'SIGTERM')
    }
    const deadline = Date.now() + timeoutMs
    while (isProcessAlive(holder.pid, holder.start_time)) {
      if (Date.now() > deadline) {
        throw new KuboProcessError(
          `the ipfs-kit manager (pid ${holder.pid}) did not stop within ${timeoutMs / 1000} s`,
          {
            hint: `see \`ipfs-kit daemon logs\`; \`kill ${holder.pid}\` three times forces it`,
          },
        )
      }
      await sleep(100)
    }
    return { stoppedPid: holder.pid, cleaned: [] }
  }
  return { stoppedPid: null, cleaned: await cleanUpAfterDeadManager(files) }
}

/** After a manager was killed: stop the Kubo it had started, remove its lock and socket. */
async function cleanUpAfterDeadManager(files: ManagerFiles): Promise<string[]> {
  const cleaned: string[] = []
  const record = await readKuboRecord(files.kuboRecord)
  if (record) {
    // Only that very process (pid and start time): a pid reused since belongs to someone else.
    const alive = () => isProcessAlive(record.pid, record.start_time)
    const gone = async () => !alive() && (await repoLockHolder(record.ipfs_path)) !== record.pid
    if (alive()) {
      process.kill(record.pid, 'SIGTERM')
      const deadline = Date.now() + 30_000
      while (!(await gone()) && Date.now() < deadline) await sleep(50)
      if (alive()) {
        process.kill(record.pid, 'SIGKILL')
        while (!(await gone()) && Date.now() < deadline + 5_000) await sleep(50)
      }
      cleaned.push(`stopped the Kubo (pid ${record.pid}) a dead manager had started`)
    }
  }
  await rm(files.kuboRecord, { force: true })
  for (const [path, what] of [
    [files.lock, 'a stale lock'],
    [files.socket, 'a stale control socket'],
  ] as const) {
    try {
      await stat(path)
      await rm(path, { force: true })
      cleaned.push(`removed ${what} (${path})`)
    } catch {
      // not there
    }
  }
  return cleaned
}
