// Kubo's RPC address as its `api` file (or config) writes it: a multiaddr such as
// /ip4/127.0.0.1/tcp/5001, /ip6/::1/tcp/5001, /dns4/localhost/tcp/5001 or /unix/run/ipfs.sock,
// turned into what node:http needs to connect.
import { UsageError } from '../errors.js'

export type ApiAddress =
  | { kind: 'tcp'; host: string; port: number; multiaddr: string }
  | { kind: 'unix'; socketPath: string; multiaddr: string }

export function parseApiMultiaddr(text: string): ApiAddress {
  const multiaddr = text.trim()
  const bad = (why: string) =>
    new UsageError(`cannot use Kubo API address ${JSON.stringify(multiaddr)}: ${why}`, {
      hint: 'expected a multiaddr like /ip4/127.0.0.1/tcp/5001, /dns4/localhost/tcp/5001 or /unix/path/to/socket',
    })
  if (!multiaddr.startsWith('/')) throw bad('a multiaddr starts with /')
  const parts = multiaddr.split('/').slice(1)
  const proto = parts[0]
  if (proto === 'unix') {
    // Everything after /unix is the socket path, which may itself contain slashes.
    const socketPath = `/${parts.slice(1).join('/')}`
    if (socketPath === '/') throw bad('/unix needs a socket path')
    return { kind: 'unix', socketPath: decodeURIComponent(socketPath), multiaddr }
  }
  if (proto !== 'ip4' && proto !== 'ip6' && proto !== 'dns' && proto !== 'dns4' && proto !== 'dns6') {
    throw bad(`unsupported protocol /${proto ?? ''}`)
  }
  const host = parts[1]
  if (!host) throw bad(`/${proto} needs an address`)
  if (parts[2] !== 'tcp') throw bad('only TCP (or /unix) is supported for the RPC API')
  const portText = parts[3] ?? ''
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw bad(`invalid TCP port ${JSON.stringify(portText)}`)
  const rest = parts.slice(4)
  if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'http')) {
    throw bad(`unsupported suffix /${rest.join('/')} (only plain HTTP is supported)`)
  }
  return { kind: 'tcp', host, port, multiaddr }
}

/** How the address reads in messages: host:port, or the socket path. */
export function describeAddress(address: ApiAddress): string {
  if (address.kind === 'unix') return `unix:${address.socketPath}`
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}
