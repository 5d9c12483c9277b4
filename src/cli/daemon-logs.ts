// `ipfs-kit daemon logs`: the last lines of a log file, readable (or raw), and -f to follow it.
import { open, readFile, stat } from 'node:fs/promises'
import { LogNotFoundError } from '../errors.js'

function readable(line: string): string {
  try {
    const { time, level, component, msg, ...fields } = JSON.parse(line) as Record<string, unknown>
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')
    return `${time} ${String(level).padEnd(5)} ${component}: ${msg}${extra ? ` ${extra}` : ''}`
  } catch {
    return line
  }
}

export async function printLogs(
  path: string,
  options: { follow: boolean; raw: boolean; lines: number },
): Promise<number> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch {
    throw new LogNotFoundError(`no log at ${path} yet`, {
      hint: 'the daemon writes it once started: `ipfs-kit daemon start`',
    })
  }
  let fh = await open(path, 'r')
  try {
    const emit = (text: string) => {
      for (const line of text.split('\n'))
        if (line !== '') process.stdout.write(`${options.raw ? line : readable(line)}\n`)
    }
    const start = Math.max(0, size - 4 * 1024 * 1024)
    const buf = Buffer.alloc(size - start)
    await fh.read(buf, 0, buf.length, start)
    const all = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
    emit(all.slice(Math.max(0, all.length - options.lines)).join('\n'))
    if (!options.follow) return 0
    let offset = size
    let partial = ''
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    let running = true
    void stopped.then(() => {
      running = false
    })
    while (running) {
      // Rotated by renaming (manager.log): the path names a new file. Read what is left of the
      // old one, then whole the files rotated after it (path.N-1 ... path.1, when it rotated more
      // than once since the last look), then follow the new one from its start.
      const atPath = await stat(path).catch(() => null)
      const current = await fh.stat()
      if (atPath && atPath.ino !== current.ino) {
        const rest = Buffer.alloc(Math.max(0, current.size - offset))
        await fh.read(rest, 0, rest.length, offset)
        let text = partial + rest.toString('utf8')
        let at = 0
        for (let i = 1; i <= 20; i++) {
          const s = await stat(`${path}.${i}`).catch(() => null)
          if (s?.ino === current.ino) {
            at = i
            break
          }
        }
        for (let i = at - 1; i >= 1; i--) text += await readFile(`${path}.${i}`, 'utf8').catch(() => '')
        const cut = text.lastIndexOf('\n')
        emit(text.slice(0, cut + 1))
        partial = text.slice(cut + 1)
        await fh.close()
        fh = await open(path, 'r')
        offset = 0
        continue
      }
      const now = current.size
      if (now < offset) offset = 0 // truncated in place (kubo.log): start over
      if (now > offset) {
        const chunk = Buffer.alloc(now - offset)
        await fh.read(chunk, 0, chunk.length, offset)
        offset = now
        const text = partial + chunk.toString('utf8')
        const cut = text.lastIndexOf('\n')
        emit(text.slice(0, cut + 1))
        partial = text.slice(cut + 1)
      }
      await Promise.race([new Promise((r) => setTimeout(r, 250)), stopped])
    }
    return 0
  } finally {
    await fh.close()
  }
}
