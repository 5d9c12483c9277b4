// The manager's own files under IPFS_KIT_PATH (beside the index of DESIGN.md): its lock, its
// control socket, the record of the Kubo it started, and its logs. Folders are private (0700).
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'

export interface ManagerFiles {
  kitPath: string
  runDir: string
  lock: string
  socket: string
  /** The Kubo this manager started, so that a new manager can adopt it after a crash. */
  kuboRecord: string
  logDir: string
  managerLog: string
  kuboLog: string
  /** stdout/stderr of a detached manager: where a crash before logging starts ends up. */
  managerOut: string
}

export function managerFiles(kitPath: string): ManagerFiles {
  const runDir = join(kitPath, 'run')
  const logDir = join(kitPath, 'logs')
  return {
    kitPath,
    runDir,
    lock: join(runDir, 'manager.lock'),
    socket: join(runDir, 'control.sock'),
    kuboRecord: join(runDir, 'kubo.json'),
    logDir,
    managerLog: join(logDir, 'manager.log'),
    kuboLog: join(logDir, 'kubo.log'),
    managerOut: join(logDir, 'manager.out'),
  }
}

export async function ensurePrivateDirs(files: ManagerFiles): Promise<void> {
  for (const dir of [files.kitPath, files.runDir, files.logDir])
    await mkdir(dir, { recursive: true, mode: 0o700 })
}
