// The manager's own files under IPFS_KIT_PATH (beside the index of DESIGN.md): its lock, its
// control socket, the record of the Kubo it started, and its logs. Folders are private (0700).
// A Unix socket path holds at most 107 bytes: when run/control.sock would be longer, the socket
// lives in a short private folder, /tmp/ipfs-kit-<uid>/, named by a hash of IPFS_KIT_PATH, so
// that the manager and every CLI find it by the same rule, from the path alone.
import { lstatSync, mkdirSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { RuntimeDirError } from '../errors.js'

export interface ManagerFiles {
  kitPath: string
  runDir: string
  lock: string
  /** The control socket: in runDir when its path fits in a socket address, else in shortSocketDir. */
  socket: string
  /** The short private folder that holds the socket, or null when it is in runDir. */
  shortSocketDir: string | null
  /** The Kubo this manager started, so that a new manager can adopt it after a crash. */
  kuboRecord: string
  /** The Cluster peer this manager started (cluster.enabled), for adoption after a crash. */
  clusterRecord: string
  logDir: string
  managerLog: string
  kuboLog: string
  clusterLog: string
  /** stdout/stderr of a detached manager: where a crash before logging starts ends up. */
  managerOut: string
}

/** sun_path is 108 bytes on Linux, the last one for the terminating NUL; a longer path is cut by bind(). */
export const MAX_SOCKET_PATH_BYTES = 107

export function managerFiles(kitPath: string): ManagerFiles {
  const runDir = join(kitPath, 'run')
  const logDir = join(kitPath, 'logs')
  let socket = join(runDir, 'control.sock')
  let shortSocketDir: string | null = null
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    shortSocketDir = `/tmp/ipfs-kit-${process.getuid?.() ?? 'user'}`
    // Loaded here, not at the top: node:crypto costs a CLI several milliseconds to load, and only
    // a long IPFS_KIT_PATH needs it on the way to the socket.
    const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
    const id = createHash('sha256').update(kitPath).digest('hex').slice(0, 24)
    socket = join(shortSocketDir, `${id}.sock`)
  }
  return {
    kitPath,
    runDir,
    lock: join(runDir, 'manager.lock'),
    socket,
    shortSocketDir,
    kuboRecord: join(runDir, 'kubo.json'),
    clusterRecord: join(runDir, 'cluster.json'),
    logDir,
    managerLog: join(logDir, 'manager.log'),
    kuboLog: join(logDir, 'kubo.log'),
    clusterLog: join(logDir, 'cluster.log'),
    managerOut: join(logDir, 'manager.out'),
  }
}

/**
 * Checks that the short socket folder is ours alone: a real folder (not a link), owned by this
 * user, that no one else can enter. Anyone can create a folder in /tmp, and a socket in a folder
 * someone else controls could be theirs. With create, makes it first (mode 0700).
 */
export function checkShortSocketDir(files: ManagerFiles, options: { create?: boolean } = {}): void {
  const dir = files.shortSocketDir
  if (dir === null) return
  if (options.create) {
    try {
      mkdirSync(dir, { mode: 0o700 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  let st: ReturnType<typeof lstatSync>
  try {
    st = lstatSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // no manager made it: none runs
    throw err
  }
  const uid = process.getuid?.()
  const problem = st.isSymbolicLink()
    ? 'is a symbolic link'
    : !st.isDirectory()
      ? 'is not a folder'
      : uid !== undefined && st.uid !== uid
        ? `belongs to user ${st.uid}, not to this user (${uid})`
        : (st.mode & 0o077) !== 0
          ? `can be entered by other users (mode ${(st.mode & 0o777).toString(8)})`
          : null
  if (problem) {
    throw new RuntimeDirError(
      `the folder for the control socket of ${files.kitPath}, ${dir}, ${problem}; ipfs-kit will not use it`,
      {
        hint: `IPFS_KIT_PATH is too long for a socket path there (over ${MAX_SOCKET_PATH_BYTES} bytes), so the socket goes to ${dir}: remove that folder, or use a shorter IPFS_KIT_PATH`,
      },
    )
  }
}

export async function ensurePrivateDirs(files: ManagerFiles): Promise<void> {
  for (const dir of [files.kitPath, files.runDir, files.logDir])
    await mkdir(dir, { recursive: true, mode: 0o700 })
  checkShortSocketDir(files, { create: true })
}
