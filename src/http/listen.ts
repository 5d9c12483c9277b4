// Where the manager's HTTP listener (and its Kubo RPC proxy) binds: `http.listen` (`proxy.listen`)
// as host:port (IPv6 in brackets), or 'off'. Anything but a loopback address is refused unless
// `http.allow_remote` (`proxy.allow_remote`) says so: the listener serves the node's pins and can
// change them, a token alone is thin cover on a LAN, and a proxy must not open to the network a
// Kubo API that listens on loopback only.
import { isIP } from 'node:net'
import { ConfigError, HttpListenError } from '../errors.js'

export interface ListenAddress {
  host: string
  port: number
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1'])

export function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true
  return isIP(host) === 4 && host.startsWith('127.')
}

/**
 * The address to listen on, or null for 'off'; ConfigError (exit 2) names what is wrong with the
 * setting (`key`: http.listen, or proxy.listen, each with its own `<section>.allow_remote`).
 */
export function parseListen(
  text: string,
  options: { allowRemote: boolean; key?: 'http.listen' | 'proxy.listen' },
): ListenAddress | null {
  const key = options.key ?? 'http.listen'
  const allowKey = key.replace('.listen', '.allow_remote')
  const value = text.trim()
  if (value === 'off') return null
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  const host = m?.[1] ?? m?.[2]
  const port = Number(m?.[3])
  if (!m || host === undefined || !Number.isInteger(port) || port > 65_535) {
    throw new ConfigError(`${key} ${JSON.stringify(text)} is not host:port`, {
      hint: "write it like 127.0.0.1:5080 or [::1]:5080 (port 0: any free port), or 'off'",
    })
  }
  if (m[1] !== undefined && isIP(host) !== 6)
    throw new ConfigError(`${key} ${JSON.stringify(text)}: ${host} is not an IPv6 address`)
  if (!isLoopback(host) && !options.allowRemote) {
    throw new ConfigError(`${key} ${value} is not a loopback address; refused`, {
      hint: `serve on 127.0.0.1 or ::1, or set ${allowKey}: true in config.yaml to accept other hosts`,
    })
  }
  return { host, port }
}

/** The base URL of a listener bound to this address and port (no trailing slash). */
export function baseUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}`
}

/**
 * Binds a server to the address, or throws HttpListenError with a reason a person can act on
 * (`key`: the setting that names the address).
 */
export async function listenOn(
  server: import('node:http').Server,
  address: ListenAddress,
  key: 'http.listen' | 'proxy.listen',
): Promise<number> {
  const { host, port } = address
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new HttpListenError(
      e.code === 'EADDRINUSE'
        ? `${host}:${port} is already in use (set ${key} to another port, or 127.0.0.1:0 for any free one)`
        : `cannot listen on ${host}:${port}: ${e.message}`,
    )
  }
  return (server.address() as import('node:net').AddressInfo).port
}

/** Stops accepting, lets requests in flight end for up to `graceMs`, then cuts what is left. */
export async function closeWithin(server: import('node:http').Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const timer = setTimeout(() => server.closeAllConnections(), graceMs)
  await closed
  clearTimeout(timer)
}
