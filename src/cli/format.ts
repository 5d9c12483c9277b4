// Small text helpers shared by the commands' human-readable output.
import { UsageError } from '../errors.js'

/** "12 s ago", "5 min ago", "3 h ago" for an ISO time. */
export function timeAgo(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`
}

/** Bytes in binary units ("1.5 MiB"); "unknown" for null. */
export function humanBytes(n: number | null): string {
  if (n === null) return 'unknown'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`
}

const DURATION_UNITS: Record<string, number> = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }

/**
 * A point in time given as a duration before now (`90m`, `36h`, `7d`, `2w`, `30s`; a sum such as
 * `1d12h`) or as an ISO 8601 time (`2026-12-01`, `2026-12-01T08:00:00Z`); null when it is neither.
 */
export function parseTimeArg(text: string, now = Date.now()): Date | null {
  const t = text.trim()
  if (/^(\d+(\.\d+)?[smhdw])+$/.test(t)) {
    let ms = 0
    for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g))
      ms += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number)
    return new Date(now - ms)
  }
  // ISO dates and times only: Date.parse alone takes "1" or "June 5" as a time.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null
  const ms = Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t)
  return Number.isNaN(ms) ? null : new Date(ms)
}

/** A --since/--until/--before value, or a usage error (exit 2) naming the forms it takes. */
export function timeOf(command: string, flag: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const t = parseTimeArg(text)
  if (!t)
    throw new UsageError(
      `${command}: ${flag} ${JSON.stringify(text.slice(0, 40))} is neither a duration (90m, 36h, 7d, 2w) nor an ISO time`,
    )
  return t
}
