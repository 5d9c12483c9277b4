// One manager per IPFS_KIT_PATH: a lock file created exclusively, holding the owner's pid and
// process start time. A lock whose process is gone (a manager killed with SIGKILL) is taken
// over, atomically enough that two starters racing over a stale lock do not both win.
import { randomUUID } from 'node:crypto'
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { IpfsKitError } from '../errors.js'
import { isProcessAlive, processStartTime } from './process-info.js'

export interface LockRecord {
  pid: number
  start_time: string | null
  instance_id: string
  started_at: string
}

export class ManagerAlreadyRunningError extends IpfsKitError {
  override name = 'ManagerAlreadyRunningError'
  readonly exitCode = 1
  constructor(readonly pid: number) {
    super(`ipfs-kit daemon is already running (pid ${pid})`, {
      hint: 'stop it with `ipfs-kit daemon stop`, or see it with `ipfs-kit daemon status`',
    })
  }
}

export async function readLock(path: string): Promise<LockRecord | null> {
  try {
    const record = JSON.parse(await readFile(path, 'utf8')) as LockRecord
    return typeof record.pid === 'number' ? record : null
  } catch {
    return null
  }
}

/** The running manager's record, or null when there is none (no lock, or a stale one). */
export async function runningManager(path: string): Promise<LockRecord | null> {
  const record = await readLock(path)
  return record && isProcessAlive(record.pid, record.start_time) ? record : null
}

export interface AcquiredLock {
  record: LockRecord
  /** The pid of a dead manager whose lock was taken over, if any. */
  tookOverFrom: number | null
  release(): Promise<void>
}

export async function acquireLock(path: string): Promise<AcquiredLock> {
  const record: LockRecord = {
    pid: process.pid,
    start_time: processStartTime(process.pid),
    instance_id: randomUUID(),
    started_at: new Date().toISOString(),
  }
  let tookOverFrom: number | null = null
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify(record)}\n`, { flag: 'wx', mode: 0o600 })
      return {
        record,
        tookOverFrom,
        release: async () => {
          const current = await readLock(path)
          if (current?.instance_id === record.instance_id) await rm(path, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = await readLock(path)
    if (holder && isProcessAlive(holder.pid, holder.start_time))
      throw new ManagerAlreadyRunningError(holder.pid)
    // Stale (or unreadable, half-written by a crash): move it aside, and make sure what we moved
    // is the stale lock we judged and not a fresh one a racing starter just created.
    const aside = `${path}.stale.${process.pid}.${attempt}`
    try {
      await rename(path, aside)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    const moved = await readLock(aside)
    if (moved && isProcessAlive(moved.pid, moved.start_time)) {
      // We moved a live manager's lock: put it back (link fails if a third one took the path).
      await link(aside, path).catch(() => {})
      await rm(aside, { force: true })
      throw new ManagerAlreadyRunningError(moved.pid)
    }
    await rm(aside, { force: true })
    tookOverFrom = moved?.pid ?? holder?.pid ?? null
  }
  throw new Error(`could not take the manager lock ${path} after 10 attempts`)
}
