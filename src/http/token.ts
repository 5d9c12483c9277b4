// The bearer token of the manager's HTTP listener: run/http.token, mode 0600, made once at the
// first start and kept across restarts (a pinning service configured in Kubo keeps working).
// Compared in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { replaceFileAtomic } from '../store/atomic.js'

export function httpTokenPath(runDir: string): string {
  return join(runDir, 'http.token')
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,128}$/

/** The token in run/http.token, made (0600) when there is none or it is not a token. */
export async function ensureHttpToken(runDir: string): Promise<string> {
  const path = httpTokenPath(runDir)
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (TOKEN_SHAPE.test(text)) return text
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('base64url')
  await replaceFileAtomic(path, `${token}\n`, { mode: 0o600 })
  return token
}

/** True when `given` is the token; takes the same time whatever the first differing byte. */
export function tokenMatches(token: string, given: string | undefined | null): boolean {
  if (!given) return false
  const a = Buffer.from(token)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
