// The control channel between the CLI and the running manager: a Unix socket (files.ts says
// where; mode 0600 in a 0700 folder, so only its user reaches it; nothing listens on a network
// port). One JSON request line, one JSON response line.
import { chmod, rm } from 'node:fs/promises'
import { createConnection, createServer, type Server } from 'node:net'
import { IpfsKitError, ManagerCommandError, ManagerNotRunningError } from '../errors.js'
import { checkShortSocketDir, MAX_SOCKET_PATH_BYTES, type ManagerFiles } from './files.js'

export type ControlCommand =
  | 'status'
  | 'index.pause'
  | 'index.resume'
  | 'index.refresh'
  | 'pins.record'
  | 'daemon.stop'
  | 'http.login'
  | 'query'

export interface ControlRequest {
  cmd: ControlCommand
  /** With index.refresh: the pin change through ipfs-kit that asks for it (counted in files state). */
  note?: 'pin.add' | 'pin.rm'
  /** With pins.record: the CIDs whose pins just changed through ipfs-kit. */
  cids?: string[]
  /** With query: the command line, environment and folder of a CLI (src/cli/warm.ts). */
  argv?: unknown
  env?: unknown
  cwd?: unknown
  build?: unknown
}

type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: { name: string; message: string; hint?: string } }

const MAX_LINE = 1024 * 1024

/**
 * A result sent as its JSON line followed by raw bytes (a warm query's output, which may be
 * megabytes: no JSON escaping on the way out, no parsing on the way in).
 */
export class RawReply {
  constructor(
    readonly head: unknown,
    readonly body: Uint8Array,
  ) {}
}

export async function serveControl(
  path: string,
  handle: (req: ControlRequest) => Promise<unknown>,
  onError: (err: Error) => void,
): Promise<Server> {
  // bind() would cut a longer path and create a socket file elsewhere (files.ts keeps it short).
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES)
    throw new Error(`the control socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`)
  // A socket file left by a manager that died is in the way of bind(); the lock says it is ours.
  await rm(path, { force: true })
  const server = createServer((socket) => {
    let buffer = ''
    socket.setEncoding('utf8')
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_LINE) {
        socket.destroy()
        return
      }
      const nl = buffer.indexOf('\n')
      if (nl === -1) return
      const line = buffer.slice(0, nl)
      socket.removeAllListeners('data')
      let req: ControlRequest
      try {
        req = JSON.parse(line) as ControlRequest
        if (typeof req?.cmd !== 'string') throw new Error('no cmd')
      } catch {
        socket.end(
          `${JSON.stringify({ ok: false, error: { name: 'BadRequest', message: 'not a control request' } })}\n`,
        )
        return
      }
      handle(req).then(
        (result) =>
          result instanceof RawReply
            ? socket.end(
                Buffer.concat([
                  Buffer.from(`${JSON.stringify({ ok: true, result: result.head })}\n`),
                  result.body,
                ]),
              )
            : socket.end(`${JSON.stringify({ ok: true, result } satisfies ControlResponse)}\n`),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err))
          const hint = err instanceof IpfsKitError ? err.hint : undefined
          socket.end(
            `${JSON.stringify({ ok: false, error: { name: e.name, message: e.message, ...(hint ? { hint } : {}) } } satisfies ControlResponse)}\n`,
          )
        },
      )
    })
  })
  server.on('error', onError)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => {
        server.off('error', reject)
        resolve()
      })
    })
    await chmod(path, 0o600)
  } catch (err) {
    server.close()
    await rm(path, { force: true })
    throw err
  }
  return server
}

/** Sends one request to the manager and returns its result; ManagerNotRunningError when none listens. */
export function callControl(
  files: ManagerFiles,
  req: ControlRequest,
  options: { timeoutMs?: number } = {},
): Promise<unknown> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const path = files.socket
  return new Promise((resolve, reject) => {
    // The answer is only as trustworthy as the folder the socket is in.
    checkShortSocketDir(files)
    const socket = createConnection(path)
    let data = ''
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      fn()
    }
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new ManagerCommandError(
              `the ipfs-kit manager did not answer '${req.cmd}' within ${timeoutMs / 1000} s`,
              {
                hint: 'see `ipfs-kit daemon logs`',
              },
            ),
          ),
        ),
      timeoutMs,
    )
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`))
    socket.on('data', (chunk: string) => {
      data += chunk
    })
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(() =>
        reject(
          err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
            ? new ManagerNotRunningError('the ipfs-kit daemon is not running', {
                hint: 'start it with `ipfs-kit daemon start`',
              })
            : err.code === 'ECONNRESET' || err.code === 'EPIPE'
              ? new ManagerCommandError(
                  `the ipfs-kit manager closed the connection before answering '${req.cmd}' (it may be stopping)`,
                  { hint: 'see `ipfs-kit daemon status` and `ipfs-kit daemon logs`' },
                )
              : err,
        ),
      ),
    )
    socket.on('end', () =>
      finish(() => {
        try {
          const res = JSON.parse(data) as ControlResponse
          if (res.ok) resolve(res.result)
          else
            reject(
              new ManagerCommandError(
                res.error.message,
                res.error.hint ? { hint: res.error.hint } : undefined,
              ),
            )
        } catch {
          reject(new ManagerCommandError(`the ipfs-kit manager sent an invalid answer to '${req.cmd}'`))
        }
      }),
    )
  })
}
