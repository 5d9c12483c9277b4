// The dashboard: its page and assets (built from web/ into dist/web, read once at start into
// memory: no request names a file), the login that turns a one-time code into a session, and
// the JSON it draws from: status, history, peers, pins and the storage report. Each answer comes
// from the index (the manager's copy of it, or its files through the same readers as the CLI).
import { readdirSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context, Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { IndexRejectedError } from '../../errors.js'
import { ChunkedList } from '../../indexer/big.js'
import type { ContentCollector } from '../../indexer/content.js'
import { PACE_EVERY, pacer, sortedInTurns } from '../../indexer/pace.js'
import type { ContentRow } from '../../store/content-format.js'
import { bySize as largestFirst } from '../../store/content-writer.js'
import { packagePath } from '../../version.js'
import { type HttpAuth, SESSION_COOKIE, SESSION_TTL_MS } from '../auth.js'
import type { PinsSnapshot, PinsView, ViewPin } from '../pins-view.js'
import { failure, type HttpRoutes } from '../server.js'
import { dashboardPins, type PinsPageQuery } from './pins-page.js'

export interface DashboardSources {
  view: PinsView
  content: ContentCollector
  auth: HttpAuth
  /** `daemon status` as the CLI gathers it, with the HTTP listener's own part. */
  status: () => Promise<unknown>
  storage: () => Promise<unknown>
  /** Rows of a state kind's history since a time (history.ts of the CLI's readers). */
  history: (kind: 'system' | 'network' | 'storage', since: Date) => Promise<Array<Record<string, unknown>>>
  peers: () => Promise<unknown>
  /** Loads what the routes above need ahead of the first request (the first page view is not the slow one). */
  warm?: () => Promise<void>
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
}

/** The built dashboard, by file name; empty (with the reason) when this copy was built without it. */
function loadAssets(): { files: Map<string, { body: Uint8Array; type: string }>; problem: string | null } {
  const dir = fileURLToPath(packagePath('dist/web/'))
  const files = new Map<string, { body: Uint8Array; type: string }>()
  try {
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)]
      if (type) files.set(name, { body: readFileSync(`${dir}${name}`), type })
    }
  } catch (err) {
    return { files, problem: `the dashboard is not built (${(err as Error).message}); run \`npm run build\`` }
  }
  return { files, problem: files.has('index.html') ? null : `no index.html in ${dir}` }
}

/** The ranges the charts offer, and the points each is cut to. */
export const HISTORY_RANGES: Record<string, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
}
const MAX_POINTS = 600

/** Rows cut to at most MAX_POINTS: the last row of each equal slice of time (a chart needs no more). */
function thin(
  rows: Array<Record<string, unknown>>,
  from: number,
  to: number,
): Array<Record<string, unknown>> {
  if (rows.length <= MAX_POINTS) return rows
  const slice = (to - from) / MAX_POINTS
  const out: Array<Record<string, unknown>> = []
  let current = -1
  for (const r of rows) {
    const k = Math.floor((Date.parse(r.collected_at as string) - from) / slice)
    if (k !== current) out.push(r)
    else out[out.length - 1] = r
    current = k
  }
  return out
}

export function dashboardRoutes(o: DashboardSources): HttpRoutes {
  const assets = loadAssets()
  const asset = (c: Context, name: string) => {
    const file = assets.files.get(name)
    if (!file)
      return failure(c, 404, 'NOT_FOUND', assets.problem ?? `no asset ${JSON.stringify(name.slice(0, 60))}`)
    // The page and its assets are built together: the page is never cached, the assets briefly.
    c.header('Cache-Control', name === 'index.html' ? 'no-store' : 'private, max-age=300')
    c.header('X-Content-Type-Options', 'nosniff')
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': file.type })
  }
  // The examined pins largest first, sorted once per version of the content index, in turns:
  // at a million rows one sort held the manager's event loop up for seconds (big.ts, pace.ts).
  let sizes: { version: number; bySize: Promise<ContentRow[]> } | null = null
  const bySize = (): Promise<ContentRow[]> | null => {
    const known = o.content.known()
    if (!known) return null
    if (sizes?.version !== known.version) sizes = { version: known.version, bySize: sortedBySize(known.rows) }
    return sizes.bySize
  }
  const pinJson = (p: ViewPin) => {
    const row = o.content.known()?.rows.get(p.cid)
    return {
      cid: p.cid,
      type: p.type,
      name: p.name,
      first_seen: new Date(p.firstSeen).toISOString(),
      first_seen_exact: p.exact,
      size: row?.dag_size_bytes ?? null,
      kind: row?.kind ?? null,
      mime: row?.mime ?? null,
    }
  }
  const snapshot = (c: Context): PinsSnapshot | Response =>
    o.view.snapshot() ?? failure(c, 503, 'NOT_READY', 'the index of this node is not written yet')

  return {
    mount(app: Hono) {
      app.get('/', (c) => {
        // Everything the page shows comes from this origin; nothing runs that it did not ship.
        c.header(
          'Content-Security-Policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        )
        return asset(c, 'index.html')
      })
      app.get('/assets/:name', (c) => asset(c, c.req.param('name') ?? ''))
      app.get('/login', (c) => {
        const session = o.auth.redeem(c.req.query('code'))
        if (!session)
          return c.html(
            '<!doctype html><meta charset="utf-8"><title>ipfs-kit</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>This login link is used or expired</h1><p>Run <code>ipfs-kit dashboard</code> again for a new one.</p></body>',
            401,
          )
        setCookie(c, SESSION_COOKIE, session, {
          httpOnly: true,
          sameSite: 'Strict',
          path: '/',
          maxAge: Math.floor(SESSION_TTL_MS / 1000),
        })
        return c.redirect('/', 303)
      })
      app.get('/api/status', async (c) => c.json(await o.status()))
      app.get('/api/storage', async (c) => c.json(await o.storage()))
      app.get('/api/peers', async (c) => c.json(await o.peers()))
      app.get('/api/history', async (c) => {
        const range = c.req.query('range') ?? '1h'
        const span = HISTORY_RANGES[range]
        if (!span)
          return failure(
            c,
            400,
            'BAD_REQUEST',
            `range must be one of ${Object.keys(HISTORY_RANGES).join(', ')}`,
          )
        const to = Date.now()
        const from = to - span
        const since = new Date(from)
        const [system, network, storage] = await Promise.all([
          o.history('system', since),
          o.history('network', since),
          o.history('storage', since),
        ])
        const pick = (rows: Array<Record<string, unknown>>, columns: string[]) =>
          thin(rows, from, to).map((r) => [
            Date.parse(r.collected_at as string) / 1000,
            ...columns.map((k) => r[k] ?? null),
          ])
        return c.json({
          range,
          from: since.toISOString(),
          to: new Date(to).toISOString(),
          bandwidth: pick(system, ['bw_rate_in_bps', 'bw_rate_out_bps']),
          peers: pick(network, ['peer_count']),
          repo: pick(storage, ['repo_size_bytes', 'storage_max_bytes']),
        })
      })
      app.get('/api/pins', async (c) => {
        const view = snapshot(c)
        if (view instanceof Response) return view
        const q = c.req.query()
        const limit = q.limit === undefined ? 50 : Number(q.limit)
        const offset = q.offset === undefined ? 0 : Number(q.offset)
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          return failure(c, 400, 'BAD_REQUEST', 'limit must be a whole number from 1 to 500')
        if (!Number.isInteger(offset) || offset < 0 || offset > 10_000_000)
          return failure(c, 400, 'BAD_REQUEST', 'offset must be a whole number from 0')
        const sort = q.sort ?? 'created'
        if (sort !== 'created' && sort !== 'size' && sort !== 'cid')
          return failure(c, 400, 'BAD_REQUEST', 'sort must be created, size or cid')
        const query: PinsPageQuery = {
          search: (q.q ?? '').trim().slice(0, 255),
          kind: q.kind || null,
          sort,
          offset,
          limit,
        }
        try {
          const page = await dashboardPins(view, query, {
            rows: () => o.content.known()?.rows ?? null,
            bySize,
          })
          return c.json({ total: page.total, offset, limit, pins: page.pins.map(pinJson) })
        } catch (err) {
          if (err instanceof IndexRejectedError) return failure(c, 503, 'INDEX_REJECTED', err.message)
          throw err
        }
      })
    },
  }
}

/** The rows with a size, largest first (then by CID), sorted in turns. */
export async function sortedBySize(rows: ReadonlyMap<string, ContentRow>): Promise<ContentRow[]> {
  const pace = pacer()
  const sized = new ChunkedList<ContentRow>()
  let seen = 0
  for (const r of rows.values()) {
    if ((++seen & (PACE_EVERY - 1)) === 0) await pace()
    if (r.dag_size_bytes !== null) sized.push(r)
  }
  return sortedInTurns(sized, largestFirst, pace)
}
