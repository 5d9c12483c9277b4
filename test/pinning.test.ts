// The Pinning Service API end to end: Kubo's own client (`ipfs pin remote`) on a second real node
// against ipfs-kit's manager: add (waits until pinned, the data fetched from the client through
// its origins), ls with filters, service ls --stat, rm; the spec's filters, paging by `created`
// over pins first seen together, replace, the node's own pins, bad input with the spec's errors,
// and pin requests kept across a restart (a file that cannot be trusted is moved aside).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runIpfs } from '../src/kubo/process.js'
import { pinRequestsPath } from '../src/store/layout.js'
import { writePinRequests } from '../src/store/pin-requests-writer.js'
import { type DaemonEnv, daemonEnv, managerLog, waitFor } from './helpers/daemon.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

interface PinStatus {
  requestid: string
  status: string
  created: string
  pin: { cid: string; name?: string; origins: string[]; meta: Record<string, string> }
  delegates: string[]
  info: Record<string, string>
}
interface PinResults {
  count: number
  results: PinStatus[]
}

let d: DaemonEnv
let client: TestKubo
let endpoint: string
let token: string
let dir: string

const headers = () => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' })
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${endpoint}${path}`, {
    method,
    headers: headers(),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : null }
}
const list = async (query: string) => {
  const r = await api('GET', `/pins${query}`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json as PinResults
}
/** Runs the ipfs CLI on the service node (ipfs-kit's Kubo). */
const onService = (args: string[]) =>
  runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 120_000 })
/** A file only the client has, added there without pinning. */
async function clientFile(label: string, bytes = 50_000): Promise<string> {
  const f = join(dir, label)
  await writeFile(f, Buffer.concat([Buffer.from(`${label}\n`), randomBytes(bytes)]))
  return (await client.ipfs(['add', '-Q', '--pin=false', f])).trim()
}
async function servicePins(): Promise<string[]> {
  return (await onService(['pin', 'ls', '--type=recursive', '-q'])).trim().split('\n').filter(Boolean)
}

/**
 * The Pinning Service API's endpoint once `daemon status` shows it. Right after a start the
 * manager can be too busy to answer status in time (daemon status then says so, with no endpoint):
 * asked again until it answers, and a failure says what the manager logged.
 */
async function serviceEndpoint(): Promise<string> {
  try {
    return await waitFor(
      'the Pinning Service API endpoint in `daemon status`',
      async () => (await d.status()).http.pinning_endpoint,
      60_000,
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}\nmanager log:\n${(await managerLog(d)).slice(-4000)}`)
  }
}

before(async () => {
  dir = await makeTempDir('pinning')
  client = await startKubo()
  d = await daemonEnv()
  const r = await d.cli(['daemon', 'start', '--interval', '3600'])
  assert.equal(r.code, 0, `daemon start: ${r.stderr}\nmanager log:\n${(await managerLog(d)).slice(-4000)}`)
  endpoint = await serviceEndpoint()
  token = (await readFile(join(d.kitPath, 'run', 'http.token'), 'utf8')).trim()
  await client.ipfs(['pin', 'remote', 'service', 'add', 'kit', endpoint, token])
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
  await client?.stop()
})

describe("Kubo's pin remote client against ipfs-kit", () => {
  it('pin remote add waits until pinned; the node holds it, and ipfs-kit shows it at once', async () => {
    const cid = await clientFile('remote-add', 400_000)
    assert.ok(!(await servicePins()).includes(cid))
    await client.ipfs(['pin', 'remote', 'add', '--service=kit', '--name=holiday photos', cid])
    assert.ok((await servicePins()).includes(cid), 'pinned on the service node (fetched from the client)')
    // No index refresh: the change went through ipfs-kit and is in the index already.
    const listed = JSON.parse((await d.cli(['pin', 'list', '--cid', cid, '--json'])).stdout) as {
      source: string
      pins: Array<{ cid: string; name: string | null }>
    }
    assert.equal(listed.source, 'index')
    assert.equal(listed.pins[0]?.name, 'holiday photos')
    const ls = await client.ipfs(['pin', 'remote', 'ls', '--service=kit', '--name=holiday photos'])
    assert.equal(ls.trim(), `${cid}\tpinned\tholiday photos`)
    const byCid = await client.ipfs(['pin', 'remote', 'ls', '--service=kit', `--cid=${cid}`, '--enc=json'])
    assert.equal((JSON.parse(byCid.trim()) as { Cid: string }).Cid, cid)
  })

  it('pin remote ls pages through every pin (count and created), service ls --stat counts them', async () => {
    // 25 pins made on the node directly and found by one cycle: one first_seen for all.
    const made: string[] = []
    for (let i = 0; i < 25; i++) {
      const f = join(dir, `same-${i}`)
      await writeFile(f, `first seen together ${i} ${Date.now()}`)
      made.push((await onService(['add', '-Q', f])).trim())
    }
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const all = new Set(await servicePins())
    const ls = (await client.ipfs(['pin', 'remote', 'ls', '--service=kit'])).trim().split('\n')
    const listed = ls.map((l) => l.split('\t')[0] as string)
    assert.equal(new Set(listed).size, listed.length, 'no pin twice')
    for (const cid of all) assert.ok(listed.includes(cid), `${cid} listed`)
    // By hand: pages of 10 by `before`, as the spec describes.
    const seen: string[] = []
    let before = ''
    let last = Number.POSITIVE_INFINITY
    for (;;) {
      const page = await list(`?limit=10${before ? `&before=${before}` : ''}`)
      for (const r of page.results) {
        assert.ok(Date.parse(r.created) <= last)
        seen.push(r.pin.cid)
      }
      if (page.results.length === page.count) break
      const oldest = page.results.at(-1) as PinStatus
      assert.notEqual(oldest.created, before, 'created is unique: paging moves on')
      before = oldest.created
      last = Date.parse(before)
    }
    assert.deepEqual(new Set(seen), all)
    assert.equal(seen.length, all.size)
    const stat = await client.ipfs(['pin', 'remote', 'service', 'ls', '--stat', '--enc=json'])
    const kit = (
      JSON.parse(stat) as {
        RemoteServices: Array<{ Service: string; Stat: { PinCount: Record<string, number> } }>
      }
    ).RemoteServices.find((s) => s.Service === 'kit')
    assert.deepEqual(kit?.Stat.PinCount, { Queued: 0, Pinning: 0, Pinned: all.size, Failed: 0 })
  })

  it('pin remote rm unpins on the node and from the index', async () => {
    const cid = await clientFile('to-remove')
    await client.ipfs(['pin', 'remote', 'add', '--service=kit', '--name=short-lived', cid])
    assert.ok((await servicePins()).includes(cid))
    await client.ipfs(['pin', 'remote', 'rm', '--service=kit', `--cid=${cid}`])
    assert.ok(!(await servicePins()).includes(cid), 'unpinned on the node')
    const listed = JSON.parse((await d.cli(['pin', 'list', '--cid', cid, '--json'])).stdout) as {
      pins: unknown[]
    }
    assert.deepEqual(listed.pins, [])
    assert.equal((await list(`?cid=${cid}&status=queued,pinning,pinned,failed`)).count, 0)
  })
})

describe('the Pinning Service API as the spec says', () => {
  it('filters by name in all four match modes, by status, cid, meta and time', async () => {
    const cid = await clientFile('filters')
    const origins = (await client.rpc.id()).addresses.filter((a) => a.includes('/127.0.0.1/')).map((a) => a)
    const add = await api('POST', '/pins', {
      cid,
      name: 'Quarterly Report.pdf',
      origins,
      meta: { app: 'books', n: '1' },
    })
    assert.equal(add.status, 202, JSON.stringify(add.json))
    const made = add.json as PinStatus
    assert.match(made.requestid, /^[A-Za-z0-9_-]{16,}$/)
    assert.notEqual(made.requestid, cid)
    assert.ok(made.delegates.length >= 1)
    let status = made
    for (let i = 0; i < 300 && status.status !== 'pinned'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      status = (await api('GET', `/pins/${made.requestid}`)).json as PinStatus
    }
    assert.equal(status.status, 'pinned', JSON.stringify(status))
    assert.equal(status.created, made.created, 'created never changes')
    const names = async (q: string) => (await list(q)).results.map((r) => r.pin.name)
    assert.deepEqual(await names('?name=Quarterly%20Report.pdf'), ['Quarterly Report.pdf'])
    assert.deepEqual(await names('?name=quarterly%20report.pdf'), [])
    assert.deepEqual(await names('?name=quarterly%20report.pdf&match=iexact'), ['Quarterly Report.pdf'])
    assert.deepEqual(await names('?name=Report&match=partial'), ['Quarterly Report.pdf'])
    assert.deepEqual(await names('?name=report&match=partial'), [])
    assert.deepEqual(await names('?name=report&match=ipartial'), ['Quarterly Report.pdf'])
    assert.equal(
      (await list(`?meta=${encodeURIComponent('{"app":"books"}')}`)).results[0]?.requestid,
      made.requestid,
    )
    assert.equal((await list(`?meta=${encodeURIComponent('{"app":"other"}')}`)).count, 0)
    assert.equal((await list(`?cid=${cid}`)).results[0]?.pin.meta.n, '1')
    assert.equal((await list(`?cid=${cid}&status=failed`)).count, 0)
    assert.equal((await list(`?cid=${cid}&after=${made.created}`)).count, 0, 'after is strict')
    assert.equal((await list(`?cid=${cid}&before=${made.created}`)).count, 0, 'before is strict')
    assert.equal((await list(`?cid=${cid}&after=2000-01-01T00:00:00Z`)).count, 1)
    // Every result is a valid PinStatus of the spec.
    for (const r of (await list('?limit=1000')).results) {
      assert.match(r.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
      assert.ok(['queued', 'pinning', 'pinned', 'failed'].includes(r.status))
      assert.ok(r.delegates.length >= 1 && r.delegates.length <= 20)
      for (const v of Object.values(r.info)) assert.equal(typeof v, 'string')
    }
  })

  it('lists the node’s own pins as node-<cid>: removable, unless a request holds them', async () => {
    const f = join(dir, 'own')
    await writeFile(f, `pinned on the node itself ${Date.now()}`)
    const cid = (await onService(['add', '-Q', f])).trim()
    assert.equal((await d.cli(['index', 'refresh'])).code, 0)
    const own = (await list(`?cid=${cid}`)).results[0] as PinStatus
    assert.equal(own.requestid, `node-${cid}`)
    assert.equal(own.info.pin_type, 'recursive')
    assert.equal((await api('GET', `/pins/node-${cid}`)).status, 200)
    // A request for the same CID holds it: the node pin is listed once, as that request.
    const req = (await api('POST', '/pins', { cid, name: 'held' })).json as PinStatus
    for (
      let i = 0;
      i < 100 &&
      (await api('GET', `/pins/${req.requestid}`)).json &&
      ((await api('GET', `/pins/${req.requestid}`)).json as PinStatus).status !== 'pinned';
      i++
    )
      await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(
      (await list(`?cid=${cid}`)).results.map((r) => r.requestid),
      [req.requestid],
    )
    const held = await api('DELETE', `/pins/node-${cid}`)
    assert.equal(held.status, 409)
    assert.equal((held.json as { error: { reason: string } }).error.reason, 'HELD_BY_REQUEST')
    assert.equal((await api('DELETE', `/pins/${req.requestid}`)).status, 202)
    assert.ok(!(await servicePins()).includes(cid), 'the last request gone: unpinned')
    assert.equal((await api('GET', `/pins/node-${cid}`)).status, 404)
  })

  it('replaces a pin: the new one pinned, then the old one gone', async () => {
    const first = await clientFile('replace-old')
    const second = await clientFile('replace-new')
    await client.ipfs(['pin', 'remote', 'add', '--service=kit', '--name=versioned', first])
    const old = (await list(`?cid=${first}`)).results[0] as PinStatus
    const r = await api('POST', `/pins/${old.requestid}`, {
      cid: second,
      name: 'versioned v2',
      origins: (await client.rpc.id()).addresses,
    })
    assert.equal(r.status, 202, JSON.stringify(r.json))
    const fresh = r.json as PinStatus
    assert.notEqual(fresh.requestid, old.requestid)
    for (let i = 0; i < 300 && (await api('GET', `/pins/${old.requestid}`)).status !== 404; i++)
      await new Promise((r) => setTimeout(r, 100))
    assert.equal((await api('GET', `/pins/${old.requestid}`)).status, 404)
    assert.equal(((await api('GET', `/pins/${fresh.requestid}`)).json as PinStatus).status, 'pinned')
    const pins = await servicePins()
    assert.ok(pins.includes(second) && !pins.includes(first))
  })

  it('answers bad input with 400 and the spec error body, unknown ids with 404', async () => {
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['GET', '/pins?cid=notacid', undefined, 400, /invalid cid "notacid"/],
      ['GET', '/pins?limit=0', undefined, 400, /limit must be a whole number from 1 to 1000/],
      ['GET', '/pins?limit=1001', undefined, 400, /limit must be/],
      ['GET', '/pins?limit=ten', undefined, 400, /limit must be/],
      ['GET', '/pins?status=done', undefined, 400, /status must be a list of queued/],
      ['GET', '/pins?name=x&match=fuzzy', undefined, 400, /match must be one of exact/],
      ['GET', '/pins?meta=%7Bnot%20json', undefined, 400, /meta must be a JSON object/],
      ['GET', `/pins?meta=${encodeURIComponent('{"a":1}')}`, undefined, 400, /meta\.a must be text/],
      ['GET', '/pins?before=yesterday', undefined, 400, /before must be an RFC 3339 time/],
      [
        'GET',
        `/pins?cid=${Array.from({ length: 11 }, () => 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn').join(',')}`,
        undefined,
        400,
        /at most 10 CIDs/,
      ],
      ['POST', '/pins', { cid: 'notacid' }, 400, /invalid cid/],
      ['POST', '/pins', { name: 'no cid' }, 400, /cid is required/],
      ['POST', '/pins', '{not json', 400, /not JSON/],
      [
        'POST',
        '/pins',
        { cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn', meta: { a: 1 } },
        400,
        /meta\.a must be text/,
      ],
      [
        'POST',
        '/pins',
        { cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn', origins: ['not-an-addr'] },
        400,
        /origins must be multiaddrs/,
      ],
      [
        'POST',
        '/pins',
        { cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn', name: 'x'.repeat(256) },
        400,
        /longer than 255 bytes/,
      ],
      ['GET', '/pins/no-such-request', undefined, 404, /no pin request/],
      ['DELETE', '/pins/no-such-request', undefined, 404, /no pin request/],
      [
        'POST',
        '/pins/no-such-request',
        { cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn' },
        404,
        /no pin request/,
      ],
      ['GET', '/pins/node-notacid', undefined, 404, /no pin request/],
    ]
    for (const [method, path, body, status, why] of cases) {
      const r = await api(method, path, body)
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`)
      const e = r.json as { error: { reason: string; details: string } }
      assert.equal(e.error.reason, status === 400 ? 'BAD_REQUEST' : 'NOT_FOUND')
      assert.match(e.error.details, why, `${method} ${path}`)
    }
  })
})

describe('pin requests across restarts', () => {
  it('keeps names, meta and created across a restart of the manager', async () => {
    const cid = await clientFile('kept')
    await client.ipfs(['pin', 'remote', 'add', '--service=kit', '--name=kept across restarts', cid])
    const before = (await list(`?cid=${cid}`)).results[0] as PinStatus
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    assert.ok(existsSync(pinRequestsPath(d.kitPath)))
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    endpoint = await serviceEndpoint()
    await client.ipfs(['pin', 'remote', 'service', 'rm', 'kit'])
    await client.ipfs(['pin', 'remote', 'service', 'add', 'kit', endpoint, token])
    const afterRestart = (await list(`?cid=${cid}`)).results[0] as PinStatus
    // The delegates are where the node listens now (Kubo's ports change across restarts here).
    assert.deepEqual({ ...afterRestart, delegates: [] }, { ...before, delegates: [] })
    assert.equal(
      (await readFile(join(d.kitPath, 'run', 'http.token'), 'utf8')).trim(),
      token,
      'the token is kept',
    )
    const sql = await d.cli(['sql', 'select count(*) as n from pin_requests', '--json'])
    if (sql.code === 0)
      assert.ok(Number((JSON.parse(sql.stdout) as { rows: Array<{ n: number }> }).rows[0]?.n) >= 1)
  })

  it("moves aside a requests file that is not this node's, and starts without it", async () => {
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    const other = (await client.rpc.id()).id
    await writePinRequests(
      d.kitPath,
      { writer: 'ipfs-kit test', peerId: other, kuboVersion: null, generatedAt: new Date() },
      [
        {
          requestid: 'forgedrequest1',
          cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn',
          name: 'forged',
          origins: [],
          meta: {},
          status: 'pinned',
          created: new Date(),
          created_ns: 0,
          info: {},
          updated_at: new Date(),
        },
      ],
    )
    assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
    endpoint = await serviceEndpoint()
    assert.equal((await list('?name=forged&status=queued,pinning,pinned,failed')).count, 0)
    const folder = join(d.kitPath, 'pin_metadata', 'parquet_storage')
    assert.ok(
      (await readdir(folder)).some((f) => f.startsWith('pin_requests.parquet.rejected-')),
      'kept aside',
    )
    assert.match(await managerLog(d), /pin_requests\.parquet cannot be trusted/)
  })
})
