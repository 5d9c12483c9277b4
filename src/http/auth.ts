// Who may use the HTTP listener: a request with `Authorization: Bearer <run/http.token>`, or a
// browser that logged in to the dashboard. A browser cannot send a header when it opens a page,
// so `ipfs-kit dashboard` asks the manager (over its control socket, which only this user can
// reach) for a one-time login code; `/login?code=` trades it for a session cookie (HttpOnly,
// SameSite=Strict) that the dashboard's own routes accept. The token itself never enters a URL.
import { randomBytes } from 'node:crypto'
import { tokenMatches } from './token.js'

/** How long a login code may wait to be used. */
export const LOGIN_CODE_TTL_MS = 2 * 60_000
/** How long a dashboard session lasts (it ends earlier when the manager stops). */
export const SESSION_TTL_MS = 12 * 3_600_000
export const SESSION_COOKIE = 'ipfs_kit_session'
/** More codes or sessions than this at once: the oldest go (a bound on memory, not a policy). */
const MAX_LIVE = 1_000

export interface HttpAuth {
  token: string
  /** A new one-time login code (for `ipfs-kit dashboard`). */
  loginCode(): string
  /** Trades a login code for a session id; null when the code is unknown, used or expired. */
  redeem(code: string | undefined): string | null
  bearerOk(header: string | undefined): boolean
  sessionOk(session: string | undefined): boolean
}

function expiring() {
  const live = new Map<string, number>()
  const sweep = (now: number) => {
    for (const [k, until] of live) if (until <= now) live.delete(k)
    while (live.size >= MAX_LIVE) live.delete(live.keys().next().value as string)
  }
  return {
    add(ttlMs: number): string {
      const now = Date.now()
      sweep(now)
      const key = randomBytes(24).toString('base64url')
      live.set(key, now + ttlMs)
      return key
    },
    has(key: string | undefined): boolean {
      if (!key) return false
      const until = live.get(key)
      return until !== undefined && until > Date.now()
    },
    take(key: string | undefined): boolean {
      const ok = this.has(key)
      if (key) live.delete(key)
      return ok
    },
  }
}

export function createHttpAuth(token: string): HttpAuth {
  const codes = expiring()
  const sessions = expiring()
  return {
    token,
    loginCode: () => codes.add(LOGIN_CODE_TTL_MS),
    redeem: (code) => (codes.take(code) ? sessions.add(SESSION_TTL_MS) : null),
    bearerOk(header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
      return tokenMatches(token, m?.[1])
    },
    sessionOk: (session) => sessions.has(session),
  }
}
