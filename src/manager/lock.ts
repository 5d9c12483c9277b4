// One manager per IPFS_KIT_PATH: a lock file holding the owner's pid and process start time.
// It comes into being whole: written to a temporary file and then link()ed into place, which
// fails if a lock exists, so no starter ever reads a half-written lock and judges it stale. A
// lock whose process is gone (a manager killed with SIGKILL) is removed under a second, short-
// lived lock (`.break`), and only if it is still the very lock that was judged stale.
import { randomBytes, randomUUID } from 'node:crypto'
import { link, open, readFile, rm } from 'node:fs/promises'
import { ManagerAlreadyRunningError } from '../errors.js'
import { isProcessAlive, processStartTime } from './process-info.js'

export interface LockRecord {
  pid: number
  start_time: string | null
  instance_id: string
  started_at: string
}

export async function readLock(path: string): Promise<LockRecord | null> {
  try {
    const record = JSON.parse(await readFile(path, 'utf8')) as LockRecord
    return typeof record?.pid === 'number' ? record : null
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

/**
 * Creates `path` holding `body`, whole, unless it exists: true when this call created it. The
 * bytes are written and fsynced under another name first; link() then gives them the name
 * atomically.
 */
async function createWhole(path: string, body: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(body)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await link(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await rm(tmp, { force: true })
  }
}

const sameLock = (a: LockRecord | null, b: LockRecord | null) =>
  a === null || b === null ? a === b : a.instance_id === b.instance_id && a.pid === b.pid

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/**
 * Removes the lock at `path` if it is still `judged` (a dead manager's, or unreadable), holding
 * the `.break` lock meanwhile so that no two starters remove locks at once: otherwise one could
 * remove the fresh lock another starter had just created in place of the stale one.
 */
async function breakStaleLock(path: string, judged: LockRecord | null, body: string): Promise<void> {
  const breaker = `${path}.break`
  if (!(await createWhole(breaker, body))) {
    // Another starter is breaking it. A breaker that died mid-way (a few milliseconds' window)
    // leaves its file: remove that one only if it is still the dead one seen.
    const other = await readLock(breaker)
    if (!other || !isProcessAlive(other.pid, other.start_time)) {
      if (sameLock(other, await readLock(breaker))) await rm(breaker, { force: true })
    }
    await sleep(10 + Math.random() * 40)
    return
  }
  try {
    const current = await readLock(path)
    if (sameLock(current, judged) && !(current && isProcessAlive(current.pid, current.start_time)))
      await rm(path, { force: true })
  } finally {
    await rm(breaker, { force: true })
  }
}

export async function acquireLock(path: string): Promise<AcquiredLock> {
  const record: LockRecord = {
    pid: process.pid,
    start_time: processStartTime(process.pid),
    instance_id: randomUUID(),
    started_at: new Date().toISOString(),
  }
  const body = `${JSON.stringify(record)}\n`
  let tookOverFrom: number | null = null
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await createWhole(path, body)) {
      return {
        record,
        tookOverFrom,
        release: async () => {
          const current = await readLock(path)
          if (current?.instance_id === record.instance_id) await rm(path, { force: true })
        },
      }
    }
    // A lock exists, and it is whole: it was linked into place after it was written.
    const holder = await readLock(path)
    if (holder && isProcessAlive(holder.pid, holder.start_time))
      throw new ManagerAlreadyRunningError(holder.pid)
    // Stale: its manager is gone (or it is not a lock ipfs-kit wrote).
    await breakStaleLock(path, holder, body)
    tookOverFrom = holder?.pid ?? tookOverFrom
  }
  throw new Error(`could not take the manager lock ${path} after 50 attempts`)
}
