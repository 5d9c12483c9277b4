// The Pinning Service API's listing logic (src/http/pins-view.ts, src/http/pinning/query.ts)
// against a plain oracle: random pinsets with many pins first seen at the same instant, changes
// since the listing, and pin requests (some holding node pins); every filter of the spec at random.
// Each answer must equal the oracle's: the count, and the first `limit` pins in the same order.
// Paging by `before` must visit every pin once. (The end-to-end tests run the same code against
// Kubo's own client; this one reaches the corners a real node rarely shows.)
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type Listed,
  type PinFilters,
  type PinStatusName,
  queryPins,
  type RequestSource,
} from '../src/http/pinning/query.js'
import type { PinRequest } from '../src/http/pinning/requests.js'
import {
  type CreatedAt,
  compareCreated,
  formatCreated,
  PinsView,
  parseCreated,
} from '../src/http/pins-view.js'
import type { PinsNow } from '../src/indexer/pin-history.js'

/** A small seeded generator, so that a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

const cidOf = (i: number) => `bafk${i.toString(36).padStart(8, '0')}`

function world(seed: number, minPins = 50) {
  const r = rng(seed)
  const n = minPins + Math.floor(r() * 400)
  const times = [1_700_000_000_000, 1_700_000_100_000, 1_700_000_100_000 + Math.floor(r() * 1000)]
  const names = ['alpha', 'Beta', 'gamma ray', null, null, 'ALPHA two']
  const rows = Array.from({ length: n }, (_, i) => ({
    cid: cidOf(i * 3),
    recursive: r() < 0.9 ? 1 : 0,
    name: names[Math.floor(r() * names.length)] ?? null,
    firstSeen: times[Math.floor(r() * times.length)] as number,
    exact: r() < 0.5 ? 1 : 0,
  })).sort((a, b) => (a.cid < b.cid ? -1 : 1))
  const changed = new Map<
    string,
    { type: 'recursive' | 'direct'; name: string | null; firstSeen: number } | null
  >()
  for (let j = 0; j < 10; j++) {
    if (r() < 0.5) changed.set((rows[Math.floor(r() * n)] as { cid: string }).cid, null)
    else
      changed.set(cidOf(j * 3 + 1), {
        type: 'recursive',
        name: r() < 0.5 ? 'alpha new' : null,
        firstSeen: 1_700_000_200_000,
      })
  }
  const now: PinsNow = {
    listing: {
      cids: rows.map((x) => x.cid),
      recursive: Uint8Array.from(rows.map((x) => x.recursive)),
      names: rows.map((x) => x.name),
      firstSeen: Float64Array.from(rows.map((x) => x.firstSeen)),
      exact: Uint8Array.from(rows.map((x) => x.exact)),
    },
    changed,
    generation: 1,
  }
  const statuses: PinStatusName[] = ['queued', 'pinning', 'pinned', 'failed']
  const requests: PinRequest[] = Array.from({ length: 12 }, (_, j) => {
    const held = r() < 0.5 ? (rows[Math.floor(r() * n)] as { cid: string }).cid : cidOf(j * 3 + 2)
    return {
      requestid: `request${j}xx`,
      cid: held,
      spellings: [held],
      name: r() < 0.5 ? 'alpha req' : null,
      origins: [],
      meta: (r() < 0.5 ? { app: 'a' } : {}) as Record<string, string>,
      status: statuses[Math.floor(r() * 4)] as PinStatusName,
      created: new Date(1_700_000_050_000 + j * 1000),
      created_ns: j,
      info: {},
      updated_at: new Date(),
    }
  })
  const source: RequestSource = {
    newestFirst: () =>
      [...requests].sort((a, b) => b.created.getTime() - a.created.getTime() || b.created_ns - a.created_ns),
    effective: (q) => ({ status: q.status, info: q.info }),
  }
  return { r, now, requests, source }
}

/** Every entry the API could list, newest first, by brute force. */
function everything(view: ReturnType<PinsView['snapshot']>, requests: PinRequest[]): Listed[] {
  if (!view) throw new Error('no view')
  const out: Listed[] = []
  const held = new Set(requests.filter((q) => q.status === 'pinned').map((q) => q.cid))
  for (let k = 0; k < view.listedPlaces; k++) {
    const p = view.listed(k)
    if (p && !held.has(p.cid)) out.push({ kind: 'node', pin: p })
  }
  for (const p of view.added) if (!held.has(p.cid)) out.push({ kind: 'node', pin: p })
  for (const q of requests) out.push({ kind: 'request', request: q, status: q.status, info: q.info })
  const created = (e: Listed): CreatedAt =>
    e.kind === 'node' ? e.pin.created : { ms: e.request.created.getTime(), ns: e.request.created_ns }
  return out.sort((a, b) => compareCreated(created(b), created(a)))
}

function oracle(all: Listed[], f: PinFilters): { count: number; results: Listed[] } {
  const created = (e: Listed): CreatedAt =>
    e.kind === 'node' ? e.pin.created : { ms: e.request.created.getTime(), ns: e.request.created_ns }
  const name = (e: Listed) => (e.kind === 'node' ? e.pin.name : e.request.name)
  const match = (n: string | null) => {
    if (!f.name) return true
    if (n === null) return false
    const t = f.name.text
    switch (f.name.match) {
      case 'exact':
        return n === t
      case 'iexact':
        return n.toLowerCase() === t.toLowerCase()
      case 'partial':
        return n.includes(t)
      case 'ipartial':
        return n.toLowerCase().includes(t.toLowerCase())
    }
  }
  const keep = all.filter((e) => {
    const status = e.kind === 'node' ? 'pinned' : e.status
    const meta = e.kind === 'node' ? {} : e.request.meta
    const cid = e.kind === 'node' ? e.pin.cid : e.request.cid
    return (
      f.status.has(status) &&
      match(name(e)) &&
      (f.cids === null || f.cids.some((s) => s.includes(cid))) &&
      (f.meta === null || Object.entries(f.meta).every(([k, v]) => meta[k] === v)) &&
      (f.before === null || compareCreated(created(e), f.before) < 0) &&
      (f.after === null || compareCreated(created(e), f.after) > 0)
    )
  })
  return { count: keep.length, results: keep.slice(0, f.limit) }
}

const id = (e: Listed) => (e.kind === 'node' ? `node ${e.pin.cid} ${e.pin.type}` : e.request.requestid)

describe('the Pinning Service API listing, against an oracle', () => {
  it('answers 400 random queries over 40 random pinsets exactly as the oracle does', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { r, now, requests, source } = world(seed)
      const view = new PinsView(() => now).snapshot()
      const all = everything(view, requests)
      for (let q = 0; q < 10; q++) {
        const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)] as T
        const some = all.length > 0 ? pick(all) : null
        const someCreated = some
          ? some.kind === 'node'
            ? some.pin.created
            : { ms: some.request.created.getTime(), ns: some.request.created_ns }
          : null
        const f: PinFilters = {
          cids: r() < 0.2 && some ? [[some.kind === 'node' ? some.pin.cid : some.request.cid]] : null,
          name:
            r() < 0.4
              ? {
                  text: pick(['alpha', 'ALPHA', 'Beta', 'ray', 'alpha req']),
                  match: pick(['exact', 'iexact', 'partial', 'ipartial'] as const),
                }
              : null,
          status: new Set(
            r() < 0.5
              ? ['pinned']
              : pick([
                  ['queued', 'pinning'],
                  ['pinned', 'failed'],
                  ['queued', 'pinning', 'pinned', 'failed'],
                ] as PinStatusName[][]),
          ),
          before: r() < 0.3 ? someCreated : null,
          after: r() < 0.3 ? { ms: 1_700_000_000_000, ns: 500_000 } : null,
          meta: r() < 0.15 ? { app: 'a' } : null,
          limit: pick([1, 3, 10, 1000]),
        }
        const got = queryPins(view as NonNullable<typeof view>, source, f)
        const want = oracle(all, f)
        const what = `seed ${seed} query ${q}: ${JSON.stringify({ ...f, status: [...f.status] })}`
        assert.equal(got.count, want.count, what)
        assert.deepEqual(got.results.map(id), want.results.map(id), what)
      }
    }
  })

  it('orders a listing the same in turns (prepare, after a cycle) as at once (the first request)', async () => {
    for (let seed = 200; seed < 210; seed++) {
      // Thousands of pins: the ordering yields every 1,024 rows.
      const { now, requests } = world(seed, seed % 2 === 0 ? 5_000 : 50)
      const prepared = new PinsView(() => now)
      await prepared.prepare()
      const inTurns = everything(prepared.snapshot(), requests)
      const atOnce = everything(new PinsView(() => now).snapshot(), requests)
      const show = (es: Listed[]) =>
        es.map((e) => (e.kind === 'node' ? `${id(e)} ${formatCreated(e.pin.created)}` : id(e)))
      assert.deepEqual(show(inTurns), show(atOnce), `seed ${seed}`)
    }
  })

  it('gives every pin a unique created, and paging by before visits each pin once', () => {
    for (let seed = 100; seed < 110; seed++) {
      const { now, requests, source } = world(seed)
      const view = new PinsView(() => now).snapshot()
      const all = everything(view, requests)
      const shown = all.map((e) =>
        e.kind === 'node'
          ? formatCreated(e.pin.created)
          : formatCreated({ ms: e.request.created.getTime(), ns: e.request.created_ns }),
      )
      assert.equal(new Set(shown).size, shown.length, `seed ${seed}: created is unique`)
      const seen: string[] = []
      let before: CreatedAt | null = null
      const status = new Set<PinStatusName>(['queued', 'pinning', 'pinned', 'failed'])
      for (;;) {
        const page = queryPins(view as NonNullable<typeof view>, source, {
          cids: null,
          name: null,
          status,
          before,
          after: null,
          meta: null,
          limit: 7,
        })
        seen.push(...page.results.map(id))
        if (page.results.length === page.count) break
        const last = page.results.at(-1) as Listed
        // The client sends back the text it was given: paging must survive the round trip.
        const text =
          last.kind === 'node'
            ? formatCreated(last.pin.created)
            : formatCreated({ ms: last.request.created.getTime(), ns: last.request.created_ns })
        before = parseCreated(text)
      }
      assert.deepEqual(seen, all.map(id), `seed ${seed}`)
    }
  })

  it('reads and writes RFC 3339 times to the nanosecond', () => {
    assert.deepEqual(parseCreated('2026-12-03T04:29:57.352999999Z'), {
      ms: Date.parse('2026-12-03T04:29:57.352Z'),
      ns: 999_999,
    })
    assert.deepEqual(parseCreated('2020-07-27T17:32:28Z'), { ms: Date.parse('2020-07-27T17:32:28Z'), ns: 0 })
    assert.deepEqual(parseCreated('2020-07-27T19:32:28.5+02:00'), {
      ms: Date.parse('2020-07-27T17:32:28.500Z'),
      ns: 0,
    })
    for (const bad of [
      'yesterday',
      '2020-07-27',
      '2020-07-27T17:32:28',
      '2020-13-27T17:32:28Z',
      '2020-07-27T17:32:28.1234567890Z',
    ])
      assert.equal(parseCreated(bad), null, bad)
    assert.equal(
      formatCreated({ ms: Date.parse('2026-12-03T04:29:57.352Z'), ns: 42 }),
      '2026-12-03T04:29:57.352000042Z',
    )
  })
})
