// Structured logs: one JSON object per line in logs/manager.log (and, in the foreground, a
// readable line on stderr), at or above the configured level. Values under secret-looking keys
// are never written. Logs are rotated by size: manager.log by renaming (manager.log.1, .2, ...;
// this process is its only writer), kubo.log, which Kubo itself appends to, by copy and truncate.
import { appendFileSync, copyFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(component: string): Logger
}

export interface LogRotation {
  /** Rotate once the file would grow past this many bytes. */
  maxBytes: number
  /** Rotated files kept (`.1` is the newest); older ones are removed. */
  keep: number
}

const SECRET_KEY = /auth|token|secret|password|authorization|privkey/i

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key)) out[key] = value === null || value === undefined ? value : '***'
    else if (value instanceof Error) out[key] = value.message
    else out[key] = value
  }
  return out
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/** Moves path.1 to path.2 and so on, dropping what falls past `keep`, leaving path.1 free. */
function shiftRotated(path: string, keep: number): void {
  rmSync(`${path}.${keep}`, { force: true })
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(`${path}.${i}`, `${path}.${i + 1}`)
    } catch {
      // not there yet
    }
  }
}

/**
 * Rotates a log that another process appends to (Kubo's output): its bytes are copied to `.1`
 * and the file is truncated in place, so that the writer's descriptor (opened with O_APPEND)
 * goes on at the start of the same file. Lines written between the copy and the truncation are
 * lost, as with logrotate's copytruncate. Returns true when it rotated.
 */
export function rotateInPlace(path: string, rotation: LogRotation): boolean {
  if (sizeOf(path) <= rotation.maxBytes) return false
  shiftRotated(path, rotation.keep)
  copyFileSync(path, `${path}.1`)
  truncateSync(path, 0)
  return true
}

export function createLogger(options: {
  file?: string
  stderr?: boolean
  component?: string
  level?: LogLevel
  rotation?: LogRotation
}): Logger {
  const least = SEVERITY[options.level ?? 'info']
  let size = options.file ? sizeOf(options.file) : 0
  const write = (level: LogLevel, component: string, msg: string, fields: Record<string, unknown> = {}) => {
    if (SEVERITY[level] < least) return
    const entry = { time: new Date().toISOString(), level, component, msg, ...redact(fields) }
    if (options.file) {
      const line = `${JSON.stringify(entry)}\n`
      const bytes = Buffer.byteLength(line)
      try {
        if (options.rotation && size > 0 && size + bytes > options.rotation.maxBytes) {
          shiftRotated(options.file, options.rotation.keep)
          renameSync(options.file, `${options.file}.1`)
          size = 0
        }
        appendFileSync(options.file, line, { mode: 0o600 })
        size += bytes
      } catch {
        // A full disk must not take the manager down; stderr still gets the line below.
      }
    }
    if (options.stderr) {
      const extra = Object.entries(redact(fields))
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
      process.stderr.write(
        `${entry.time} ${level.padEnd(5)} ${component}: ${msg}${extra ? ` ${extra}` : ''}\n`,
      )
    }
  }
  const make = (component: string): Logger => ({
    debug: (m, f) => write('debug', component, m, f),
    info: (m, f) => write('info', component, m, f),
    warn: (m, f) => write('warn', component, m, f),
    error: (m, f) => write('error', component, m, f),
    child: (c) => make(`${component}:${c}`),
  })
  return make(options.component ?? 'ipfs-kit')
}
