// Warm queries (src/cli/warm.ts) against a real manager and Kubo: a query the running manager
// answers prints exactly what the CLI prints when it answers on its own (IPFS_KIT_NO_WARM=1),
// with the same exit code; a CLI whose environment differs, a query that is not a bounded read,
// and a manager that is gone, hangs or answers garbage all get the CLI's own answer.
import assert from 'node:assert/strict'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { QueryWorker } from '../src/manager/query-worker.js'
import { runCli } from './helpers/cli.js'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { makeTempDir } from './helpers/kubo.js'

const ANSWERED = /^ipfs-kit: debug: answered by the running manager \(\d+ ms\)\n/

let d: DaemonEnv
let cids: string[] = []

async function ipfs(args: string[]): Promise<string> {
  const { runIpfs } = await import('../src/kubo/process.js')
  return runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 120_000 })
}

/** The same command answered by the manager and by the CLI itself. */
async function both(args: string[]) {
  const warm = await d.cli(args)
  const cold = await runCli(args, { env: { ...d.env, IPFS_KIT_NO_WARM: '1' } })
  return { warm, cold }
}

async function warmDebug(args: string[], extra: Record<string, string> = {}) {
  return runCli(args, { env: { ...d.env, IPFS_KIT_DEBUG: '1', ...extra } })
}

describe('warm queries: the running manager answers for the CLI', () => {
  before(async () => {
    // No cycle between the two runs of a comparison: the index changes only when asked.
    d = await daemonEnv({ extra: { IPFS_KIT_INTERVAL: '3600', IPFS_KIT_WATCH_S: '3600' } })
    const started = await d.cli(['daemon', 'start'])
    assert.equal(started.code, 0, started.stderr)
    const dir = await makeTempDir('warm-files')
    for (let i = 0; i < 6; i++) {
      const f = join(dir, `f${i}.txt`)
      await writeFile(f, `warm query file ${i}\n`)
      cids.push((await ipfs(['add', '-Q', '--pin=false', f])).trim())
    }
    for (const [i, cid] of cids.entries()) {
      const r = await d.cli(['pin', 'add', cid, '--name', `warm-${i}`])
      assert.equal(r.code, 0, r.stderr)
    }
    const refreshed = await d.cli(['index', 'refresh'])
    assert.equal(refreshed.code, 0, refreshed.stderr)
    cids = cids.sort()
  })
  after(async () => {
    await d.cli(['daemon', 'stop'])
  })

  it('answers each bounded query exactly as the CLI does on its own', async () => {
    // An absolute time: "1h" would be an hour before each run's own now.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString()
    const lines = [
      ['pin', 'list'],
      ['pin', 'list', '--json'],
      ['pin', 'list', '--cid', cids[2] as string, '--json'],
      ['pin', 'list', '--cid', cids[2] as string],
      ['pin', 'list', '--name', 'warm-3', '--json'],
      ['pin', 'list', '--type', 'direct', '--json'],
      ['pin', 'list', '--limit', '2', '--json'],
      ['pin', 'list', '--since', hourAgo, '--json'],
      ['pin', 'list', '--sort', 'size', '--limit', '3', '--json'],
      ['pin', 'list', '--sort', 'cid', '--limit', '3'],
      ['pin', 'events', '--json'],
      ['state', 'network', '--json'],
      ['state', 'history', 'storage', '--since', hourAgo, '--json'],
      ['storage', 'report', '--json'],
      ['cluster', 'status'],
      // Bad input: exit 2 and the same message, from the manager too.
      ['pin', 'list', '--cid', 'not-a-cid'],
      ['pin', 'list', '--limit', '5', '--type', 'sideways'],
      ['state', 'history', 'storage', '--since', 'lots'],
    ]
    for (const args of lines) {
      const dbg = await warmDebug(args)
      assert.match(dbg.stderr, ANSWERED, `${args.join(' ')}: not answered by the manager`)
      const { warm, cold } = await both(args)
      assert.equal(warm.code, cold.code, args.join(' '))
      // "confirmed 0 s ago" may become "1 s ago" between the two runs.
      const age = (s: string) => s.replace(/\d+ (s|min|h) ago/g, 'N ago')
      assert.equal(age(warm.stdout), age(cold.stdout), args.join(' '))
      assert.equal(age(warm.stderr), age(cold.stderr), args.join(' '))
    }
    // The pins are the node's.
    const listed = JSON.parse((await d.cli(['pin', 'list', '--json'])).stdout) as {
      pins: Array<{ cid: string }>
    }
    for (const cid of cids)
      assert.ok(
        listed.pins.some((p) => p.cid === cid),
        cid,
      )
  })

  it('daemon status and index status from the manager match the CLI (but for the clock)', async () => {
    const dbg = await warmDebug(['daemon', 'status', '--json'])
    assert.match(dbg.stderr, ANSWERED)
    const { warm, cold } = await both(['daemon', 'status', '--json'])
    assert.equal(warm.code, 0)
    assert.equal(cold.code, 0)
    const a = JSON.parse(warm.stdout)
    const b = JSON.parse(cold.stdout)
    assert.equal(a.manager.pid, b.manager.pid)
    assert.equal(a.kubo.peer_id, b.kubo.peer_id)
    assert.deepEqual(a.storage, b.storage)
    assert.equal(a.index.last_updated, b.index.last_updated)
    // The manager counts what it answered (every query of the test before, at least).
    assert.ok(a.queries.answered >= 16, JSON.stringify(a.queries))
    const idx = await both(['index', 'status', '--json'])
    assert.equal(idx.warm.code, idx.cold.code)
    assert.equal(JSON.parse(idx.warm.stdout).interval_s, JSON.parse(idx.cold.stdout).interval_s)
  })

  it('ten CLIs at once all get the whole answer', async () => {
    const want = (await runCli(['pin', 'list', '--json'], { env: { ...d.env, IPFS_KIT_NO_WARM: '1' } }))
      .stdout
    const runs = await Promise.all(Array.from({ length: 10 }, () => warmDebug(['pin', 'list', '--json'])))
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, want)
    }
    assert.ok(
      runs.some((r) => ANSWERED.test(r.stderr)),
      'none was answered by the manager',
    )
  })

  it('a CLI with another environment, or a query that is not a bounded read, answers on its own', async () => {
    const other = await warmDebug(['pin', 'list', '--json'], { IPFS_KIT_LOG_LEVEL: 'debug' })
    assert.equal(other.code, 0, other.stderr)
    assert.match(
      other.stderr,
      /answering here: its environment is not the manager's: IPFS_KIT_LOG_LEVEL differs/,
    )
    const pinsOf = (stdout: string) => (JSON.parse(stdout).pins as Array<{ cid: string }>).map((p) => p.cid)
    for (const cid of cids) assert.ok(pinsOf(other.stdout).includes(cid), cid)
    for (const args of [
      ['pin', 'list', '--limit', '0', '--json'],
      ['pin', 'list', '--ndjson'],
      ['pin', 'list', '--sort', 'size', '--json'],
      ['pin', 'list', '--sort', 'size', '--limit', '11', '--json'],
      ['pin', 'list', '--sort', 'size', '--limit', '3', '--name', 'warm', '--json'],
      ['pin', 'list', '--help'],
      ['daemon', 'logs', '-n', '1'],
    ]) {
      const r = await warmDebug(args)
      assert.doesNotMatch(r.stderr, /debug: answer/, args.join(' '))
    }
    const all = await warmDebug(['pin', 'list', '--limit', '0', '--json'])
    assert.deepEqual(pinsOf(all.stdout), pinsOf(other.stdout))
    // daemon status says what the manager declined last, and why.
    const st = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout)
    assert.ok(st.queries.declined >= 1)
    assert.match(st.queries.last_declined, /IPFS_KIT_LOG_LEVEL differs/)
    assert.match(
      (await d.cli(['daemon', 'status'])).stdout,
      /Queries: +\d+ answered by the manager, \d+ declined/,
    )
  })

  it('the worker process killed alone: no query is lost, and a new worker answers the next ones', async () => {
    const want = (await runCli(['pin', 'list', '--json'], { env: { ...d.env, IPFS_KIT_NO_WARM: '1' } }))
      .stdout
    assert.match((await warmDebug(['pin', 'list', '--json'])).stderr, ANSWERED)
    const pidOf = async () =>
      JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout).queries.worker_pid as number | null
    const first = await pidOf()
    assert.equal(typeof first, 'number')
    process.kill(first as number, 'SIGKILL')
    const r = await warmDebug(['pin', 'list', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, want)
    const again = await warmDebug(['pin', 'list', '--json'])
    assert.match(again.stderr, ANSWERED)
    assert.equal(again.stdout, want)
    const second = await pidOf()
    assert.equal(typeof second, 'number')
    assert.notEqual(second, first)
  })

  it('the manager killed with SIGKILL: its worker process ends with it', async () => {
    assert.match((await warmDebug(['daemon', 'status'])).stderr, ANSWERED)
    const st = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout)
    const worker = st.queries.worker_pid as number
    assert.equal(typeof worker, 'number')
    process.kill(st.manager.pid as number, 'SIGKILL')
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    const until = Date.now() + 10_000
    while (alive(worker) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    assert.equal(alive(worker), false, 'the worker outlived its manager')
    // A new manager takes over (and the Kubo the old one left), for the tests after this one.
    const restarted = await d.cli(['daemon', 'start'])
    assert.equal(restarted.code, 0, restarted.stderr)
  })

  it('once the manager is gone the CLI answers on its own', async () => {
    const stopped = await d.cli(['daemon', 'stop'])
    assert.equal(stopped.code, 0, stopped.stderr)
    const r = await warmDebug(['pin', 'list', '--json'])
    assert.match(r.stderr, /answering here: no manager (runs here|answers)/)
    assert.equal(r.code, 0, r.stderr)
    const listed = (JSON.parse(r.stdout).pins as Array<{ cid: string }>).map((p) => p.cid)
    for (const cid of cids) assert.ok(listed.includes(cid), cid)
    assert.equal(JSON.parse(r.stdout).source, 'index')
  })
})

describe('warm queries: a control socket that misbehaves', () => {
  let kit: string
  let server: Server | null = null
  const socketPath = () => join(kit, 'run', 'control.sock')
  before(async () => {
    kit = await makeTempDir('warm-fake')
    await mkdir(join(kit, 'run'), { recursive: true, mode: 0o700 })
  })
  after(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  })
  async function serve(reply: ((line: string) => string) | null): Promise<void> {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
    await rm(socketPath(), { force: true })
    server = createServer((s) => {
      s.on('error', () => {})
      s.once('data', (line) => {
        if (reply) s.end(reply(String(line)))
      })
    })
    await new Promise<void>((r) => server?.listen(socketPath(), r))
  }
  const env = () => ({
    IPFS_KIT_PATH: kit,
    IPFS_PATH: join(kit, 'no-repo'),
    IPFS_KIT_DEBUG: '1',
  })
  // What the CLI says on its own here: no index, no Kubo: exit 1 with both reasons.
  async function own(): Promise<{ code: number | null; stdout: string }> {
    const r = await runCli(['pin', 'list', '--json'], { env: { ...env(), IPFS_KIT_NO_WARM: '1' } })
    assert.equal(r.code, 1, r.stderr)
    return r
  }

  it('one that never answers: the CLI answers on its own after its wait', async () => {
    await serve(null)
    const want = await own()
    const t0 = Date.now()
    const r = await runCli(['pin', 'list', '--json'], { env: env() })
    assert.match(r.stderr, /answering here: the manager did not answer within 1500 ms/)
    assert.equal(r.code, want.code)
    assert.equal(r.stdout, want.stdout)
    assert.ok(Date.now() - t0 < 10_000)
  })

  for (const [what, reply] of [
    ['garbage', () => 'this is not JSON\n'],
    [
      'an answer without its fields',
      () => `${JSON.stringify({ ok: true, result: { answered: true, code: 'zero' } })}\n`,
    ],
    ['a refusal', () => `${JSON.stringify({ ok: false, error: { name: 'X', message: 'no' } })}\n`],
    [
      'an answer of the wrong length',
      () =>
        `${JSON.stringify({ ok: true, result: { answered: true, code: 0, out_bytes: 10, err_bytes: 0 } })}\nabc`,
    ],
  ] as const) {
    it(`one that answers ${what}: the CLI answers on its own`, async () => {
      await serve(reply)
      const want = await own()
      const r = await runCli(['pin', 'list', '--json'], { env: env() })
      assert.match(r.stderr, /answering here: /)
      assert.doesNotMatch(r.stderr, /answered by the running manager/)
      assert.equal(r.code, want.code)
      assert.equal(r.stdout, want.stdout)
    })
  }
})

describe('warm queries: a query worker that cannot run', () => {
  it('declines, and is not started again for every query', async () => {
    const dir = await makeTempDir('warm-broken')
    const script = join(dir, 'broken.mjs')
    await writeFile(script, "throw new Error('this worker cannot start')\n")
    const errors: Error[] = []
    const q = new QueryWorker(script, (err) => errors.push(err))
    try {
      const first = await q.run({ argv: ['pin', 'list'], env: [], cwd: '/' }, 10_000)
      assert.deepEqual(first, { answered: false, why: 'the query worker stopped' })
      assert.match(String(errors[0]), /this worker cannot start/)
      const t0 = Date.now()
      const second = await q.run({ argv: ['pin', 'list'], env: [], cwd: '/' }, 10_000)
      assert.equal(second.answered, false)
      assert.match((second as { why: string }).why, /tried again within a minute/)
      assert.ok(Date.now() - t0 < 100, 'declined at once')
      assert.equal(errors.length, 1)
    } finally {
      await q.close()
    }
  })
})
