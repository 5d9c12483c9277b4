// The only way the manager writes a file that others read (index files, side notes, the record
// of the Kubo it started): the whole file to a temporary file in the same folder, fsync, rename
// over the old one, fsync the folder. A reader sees the old file or the new one, never a mix.
// No Parquet here: the manager's own records use it without loading the Parquet writer.
import { randomBytes } from 'node:crypto'
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Replaces a file atomically: the bytes go to a temporary file in the same folder, which is
 * fsynced and renamed over the old one, then the folder is fsynced so the rename is durable.
 * A reader sees the old file or the new one, never a mix; a crash leaves at most a temporary
 * file, which the next manager start removes.
 */
export async function replaceFileAtomic(
  path: string,
  write: Uint8Array | string | ((fh: FileHandle) => Promise<number>),
  options: { mode?: number; dirMode?: number } = {},
): Promise<number> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o700 })
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`)
  const mode = options.mode ?? 0o600
  const fh = await open(tmp, 'wx', mode)
  let size: number
  try {
    if (typeof write === 'function') size = await write(fh)
    else {
      await fh.writeFile(write)
      size = typeof write === 'string' ? Buffer.byteLength(write) : write.byteLength
    }
    // The umask may have taken bits the caller asked for (a unit file others read).
    if (mode !== 0o600) await fh.chmod(mode)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  // Without this a power cut can bring back the old file.
  const dh = await open(dir, 'r')
  try {
    await dh.sync()
  } finally {
    await dh.close()
  }
  return size
}

/** A small JSON side note for readers (such as when an unchanged index was last checked), written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await replaceFileAtomic(path, `${JSON.stringify(value)}\n`)
}

/** A text file for other programs (a systemd unit), written atomically with this mode. */
export async function writeTextAtomic(path: string, text: string, mode: number): Promise<void> {
  await replaceFileAtomic(path, text, { mode, dirMode: 0o755 })
}

/** The prefix of temporary files, so that a later start can find and remove a crashed write's leftovers. */
export const TEMP_PREFIX = '.tmp-'
