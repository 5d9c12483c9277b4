// One HTTP request to a local service (Kubo's RPC API, IPFS Cluster's REST API) on node:http, with
// what every call of ours needs: an AbortSignal, a timeout (for a unary call the whole call, for a
// stream the longest silence), a non-2xx answer turned into the caller's error, and the real
// reason when we cut the request ourselves (the body stream then only reports a reset).
import { type Agent, type IncomingMessage, request } from 'node:http'
import type { ApiAddress } from '../kubo/address.js'

export interface OpenedResponse {
  res: IncomingMessage
  /** Ends the request (clears the timer, the abort listener, the socket). Call it once done. */
  done: () => void
  /** Why we cut the request (timeout, abort), if we did: the error to report instead of a reset. */
  stoppedBy: () => Error | undefined
}

export interface RequestSpec {
  address: ApiAddress
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  agent: Agent | false | undefined
  signal: AbortSignal | undefined
  timeoutMs: number
  timeoutKind: 'total' | 'idle'
  /** The caller's errors: when aborted, when timed out, for a transport error, for a non-2xx answer. */
  aborted: () => Error
  timedOut: () => Error
  translate: (err: unknown) => Error
  errorFromBody: (status: number, res: IncomingMessage) => Promise<Error>
}

/** Sends the request and resolves with a 2xx response; rejects with the caller's error otherwise. */
export function openRequest(spec: RequestSpec): Promise<OpenedResponse> {
  if (spec.signal?.aborted) return Promise.reject(spec.aborted())
  return new Promise((resolve, reject) => {
    const target =
      spec.address.kind === 'unix'
        ? { socketPath: spec.address.socketPath }
        : { host: spec.address.host, port: spec.address.port }
    const req = request({
      ...target,
      path: spec.path,
      method: spec.method,
      headers: spec.headers,
      agent: spec.agent,
    })
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let stopReason: Error | undefined
    const fail = (err: Error) => {
      stopReason ??= err
      req.destroy(err)
      if (!settled) {
        settled = true
        reject(err)
      }
    }
    const onAbort = () => fail(spec.aborted())
    spec.signal?.addEventListener('abort', onAbort, { once: true })
    if (spec.timeoutKind === 'total') timer = setTimeout(() => fail(spec.timedOut()), spec.timeoutMs)
    // For a stream, the timeout is the longest silence: a million pins may take minutes in all.
    else req.setTimeout(spec.timeoutMs, () => fail(spec.timedOut()))
    const done = () => {
      if (timer) clearTimeout(timer)
      spec.signal?.removeEventListener('abort', onAbort)
      req.destroy()
    }
    req.on('error', (err) => {
      if (settled) return
      settled = true
      done()
      reject(spec.translate(err))
    })
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      if (status >= 200 && status < 300) {
        settled = true
        resolve({ res, done, stoppedBy: () => stopReason })
        return
      }
      spec.errorFromBody(status, res).then(
        (err) => fail(err),
        (err) => fail(spec.translate(err)),
      )
    })
    req.end()
  })
}
