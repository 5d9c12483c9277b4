// Is a process (still) the one we think it is? A pid alone can be reused after a crash, so
// records keep the process start time from /proc/<pid>/stat and compare it.
import { readFileSync } from 'node:fs'

/** The start time of a process in clock ticks since boot (Linux); null where unknown. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null
  } catch {
    return null
  }
}

/** True when a process with this pid exists (and, if given, started at this time). */
export function isProcessAlive(pid: number, startTime?: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  // A zombie has exited; it only waits for its parent (or init) to reap it.
  if (isZombie(pid)) return false
  if (startTime) {
    // A reused pid belongs to a process that started at another time.
    const now = processStartTime(pid)
    if (now !== null && now !== startTime) return false
  }
  return true
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}
