// The IPFS Pinning Service API v1.0.0 under /pinning (the endpoint for `ipfs pin remote service
// add`): GET/POST /pins, GET/POST/DELETE /pins/{requestid}. Listing from the manager's copy of
// the index and the pin requests; changes through Kubo (requests.ts). Errors in the spec's Failure
// shape. A pin the node holds without a request is listed as `node-<cid>`, and can be removed or
// replaced by that id like any request.
import type { Context, Hono } from 'hono'
import { PinningApiError, UsageError } from '../../errors.js'
import { parseUserCid } from '../../pins/cid.js'
import { formatCreated, type PinsView, type ViewPin } from '../pins-view.js'
import { failure, type HttpRoutes, PINNING_PREFIX } from '../server.js'
import { parseFilters, parsePin } from './input.js'
import { type Listed, queryPins } from './query.js'
import { NODE_PIN_PREFIX, type PinRequests } from './requests.js'

export interface PinningRoutesOptions {
  view: PinsView
  requests: PinRequests
  /** The node's multiaddrs, where clients may send data (the spec's delegates: 1 to 20). */
  delegates: () => string[]
  /** The DAG size of a pinned CID when the content index knows it. */
  dagSize?: (cid: string) => number | null
}

export function pinningRoutes(o: PinningRoutesOptions): HttpRoutes {
  const delegates = () => {
    const d = o.delegates().slice(0, 20)
    return d.length > 0 ? d : ['/p2p/unknown']
  }
  const nodeInfo = (p: ViewPin): Record<string, string> => {
    const info: Record<string, string> = { pin_type: p.type }
    if (!p.exact)
      info.created_note = 'pinned before ipfs-kit first indexed the node: created is that first index'
    const size = o.dagSize?.(p.cid)
    if (size !== null && size !== undefined) info.dag_size = String(size)
    return info
  }
  const json = (e: Listed) => {
    if (e.kind === 'node') {
      const p = e.pin
      return {
        requestid: `${NODE_PIN_PREFIX}${p.cid}`,
        status: 'pinned',
        created: formatCreated(p.created),
        pin: { cid: p.cid, ...(p.name !== null ? { name: p.name } : {}), origins: [], meta: {} },
        delegates: delegates(),
        info: nodeInfo(p),
      }
    }
    const r = e.request
    const info = { ...e.info }
    const size = e.status === 'pinned' ? o.dagSize?.(r.cid) : null
    if (size !== null && size !== undefined) info.dag_size = String(size)
    return {
      requestid: r.requestid,
      status: e.status,
      created: formatCreated({ ms: r.created.getTime(), ns: r.created_ns }),
      pin: { cid: r.cid, ...(r.name !== null ? { name: r.name } : {}), origins: r.origins, meta: r.meta },
      delegates: delegates(),
      info,
    }
  }
  const snapshot = () => {
    const v = o.view.snapshot()
    if (!v || !o.requests.ready)
      throw new PinningApiError(
        503,
        'NOT_READY',
        'the index of this node is not written yet; try again in a moment',
      )
    return v
  }
  /** The request or node pin of an id; null when there is none. */
  const lookup = async (id: string): Promise<Listed | null> => {
    const r = o.requests.get(id)
    if (r) return { kind: 'request', request: r, ...o.requests.effective(r) }
    if (!id.startsWith(NODE_PIN_PREFIX)) return null
    let spellings: string[]
    try {
      spellings = (await parseUserCid(id.slice(NODE_PIN_PREFIX.length))).spellings
    } catch (err) {
      if (err instanceof UsageError) return null
      throw err
    }
    const pin = snapshot().find(spellings)[0]
    return pin ? { kind: 'node', pin } : null
  }
  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json()
    } catch {
      throw new PinningApiError(400, 'BAD_REQUEST', 'the body is not JSON')
    }
  }
  const handle =
    (fn: (c: Context) => Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      try {
        return await fn(c)
      } catch (err) {
        if (err instanceof PinningApiError) return failure(c, err.status, err.reason, err.message)
        throw err
      }
    }
  const notFound = (c: Context, id: string) =>
    failure(c, 404, 'NOT_FOUND', `no pin request ${JSON.stringify(id.slice(0, 80))}`)

  return {
    mount(app: Hono) {
      const base = `${PINNING_PREFIX}/pins`
      app.get(
        base,
        handle(async (c) => {
          const filters = await parseFilters(new URL(c.req.url).searchParams)
          const { count, results } = queryPins(snapshot(), o.requests, filters)
          return c.json({ count, results: results.map(json) })
        }),
      )
      app.post(
        base,
        handle(async (c) => {
          const pin = await parsePin(await body(c))
          snapshot()
          const r = await o.requests.add(pin)
          return c.json(json({ kind: 'request', request: r, ...o.requests.effective(r) }), 202)
        }),
      )
      app.get(
        `${base}/:requestid`,
        handle(async (c) => {
          const id = c.req.param('requestid') ?? ''
          const e = await lookup(id)
          return e ? c.json(json(e)) : notFound(c, id)
        }),
      )
      app.post(
        `${base}/:requestid`,
        handle(async (c) => {
          const id = c.req.param('requestid') ?? ''
          const pin = await parsePin(await body(c))
          if (!(await lookup(id))) return notFound(c, id)
          const r = await o.requests.add(pin, id)
          return c.json(json({ kind: 'request', request: r, ...o.requests.effective(r) }), 202)
        }),
      )
      app.delete(
        `${base}/:requestid`,
        handle(async (c) => {
          const id = c.req.param('requestid') ?? ''
          const e = await lookup(id)
          if (!e) return notFound(c, id)
          if (e.kind === 'request') await o.requests.remove(id)
          else {
            const holder = o.requests
              .newestFirst()
              .find((r) => r.status !== 'failed' && r.spellings.includes(e.pin.cid))
            if (holder)
              return failure(
                c,
                409,
                'HELD_BY_REQUEST',
                `pin request ${holder.requestid} holds this CID; remove that request instead`,
              )
            await o.requests.unpin(e.pin.cid)
          }
          return c.body(null, 202)
        }),
      )
    },
  }
}
