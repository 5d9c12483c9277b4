// Structured logs: one JSON object per line in logs/manager.log (and, in the foreground, a
// readable line on stderr). Values under secret-looking keys are never written.
import { appendFileSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(component: string): Logger
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

export function createLogger(options: { file?: string; stderr?: boolean; component?: string }): Logger {
  const write = (level: LogLevel, component: string, msg: string, fields: Record<string, unknown> = {}) => {
    const entry = { time: new Date().toISOString(), level, component, msg, ...redact(fields) }
    if (options.file) {
      try {
        appendFileSync(options.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 })
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
