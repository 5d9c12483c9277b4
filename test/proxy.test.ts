// The Kubo RPC proxy on a real node: `ipfs --api <proxy>` behaves as `ipfs` against Kubo itself
// for a broad set of commands (the same output, the same exit code and error, a 30 MB add streamed
// in, a cat streamed out, a stream that fails half-way with Kubo's X-Stream-Error trailer), and
// every pin change it carries (pin add/rm/update, add, dag import, block put --pin) shows in
// `ipfs-kit pin list` as soon as the ipfs command returns, with no index refresh. Kubo's own API
// authorization still decides: the proxy adds no credentials.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

interface Run {
  code: number | null
  stdout: Buffer
  stderr: string
}

let d: DaemonEnv
let proxyApi: string
let directApi: string
let dir: string

function ipfs(api: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(d.env.IPFS_KIT_IPFS_BIN as string, ['--api', api, ...args], {
      env: { ...process.env, IPFS_PATH: d.ipfsPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c) => {
      err += c
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: Buffer.concat(out), stderr: err })
    })
  })
}
const viaProxy = (args: string[]) => ipfs(proxyApi, args)
const direct = (args: string[]) => ipfs(directApi, args)
const text = (r: Run) => r.stdout.toString('utf8').trim()

/** What ipfs-kit's index says of a CID, without any refresh. */
async function indexed(
  cid: string,
): Promise<{ source: string; pins: Array<{ cid: string; type: string; name: string | null }> }> {
  const r = await d.cli(['pin', 'list', '--cid', cid, '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

before(async () => {
  dir = await makeTempDir('proxy')
  d = await daemonEnv()
  assert.equal((await d.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
  const st = await d.status()
  proxyApi = st.proxy.api as string
  assert.match(proxyApi, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
  const status = JSON.parse((await d.cli(['daemon', 'status', '--json'])).stdout) as {
    kubo: { api_address: string }
  }
  directApi = status.kubo.api_address
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

describe('the Kubo RPC proxy', () => {
  it('answers like Kubo: version, id, a 30 MB add and its cat, pin ls --stream, a failing call', async () => {
    assert.equal(text(await viaProxy(['version'])), text(await direct(['version'])))
    assert.equal(
      (JSON.parse(text(await viaProxy(['id']))) as { ID: string }).ID,
      (JSON.parse(text(await direct(['id']))) as { ID: string }).ID,
    )
    const big = randomBytes(30 * 1024 * 1024)
    await writeFile(join(dir, 'big'), big)
    const expected = text(await direct(['add', '-Q', '--only-hash', join(dir, 'big')]))
    const added = await viaProxy(['add', '-Q', join(dir, 'big')])
    assert.equal(added.code, 0, added.stderr)
    assert.equal(text(added), expected)
    // Pinned, and in the index as soon as `ipfs add` returned.
    assert.deepEqual(
      (await indexed(expected)).pins.map((p) => p.type),
      ['recursive'],
    )
    const cat = await viaProxy(['cat', expected])
    assert.equal(cat.code, 0)
    assert.equal(
      createHash('sha256').update(cat.stdout).digest('hex'),
      createHash('sha256').update(big).digest('hex'),
    )
    const ls = await viaProxy(['pin', 'ls', '--stream', '--type=recursive'])
    assert.equal(
      text(ls).split('\n').sort().join('\n'),
      text(await direct(['pin', 'ls', '--stream', '--type=recursive']))
        .split('\n')
        .sort()
        .join('\n'),
    )
    // A failing call: the same error and exit code as from Kubo itself.
    const bad = await viaProxy(['pin', 'add', 'bafynotacid'])
    const badDirect = await direct(['pin', 'add', 'bafynotacid'])
    assert.equal(bad.code, badDirect.code)
    assert.notEqual(bad.code, 0)
    assert.equal(bad.stderr, badDirect.stderr)
  })

  it('passes a stream that fails half-way with its X-Stream-Error trailer', async () => {
    // A dag-pb root whose child is not on this node: `refs -r --offline` lists, then fails.
    const missing = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const pb = join(dir, 'pb.json')
    await writeFile(
      pb,
      JSON.stringify({
        Data: { '/': { bytes: 'CAIYgAE' } },
        Links: [{ Hash: { '/': missing }, Name: 'gone', Tsize: 128 }],
      }),
    )
    const root = text(
      await direct(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', 'dag-pb', pb]),
    )
    const want = await direct(['refs', '-r', '--offline', root])
    const got = await viaProxy(['refs', '-r', '--offline', root])
    assert.notEqual(want.code, 0, 'Kubo fails this stream')
    assert.equal(got.code, want.code)
    assert.equal(got.stderr, want.stderr)
    assert.equal(text(got), text(want))
  })

  it('records every pin change it carries at once: pin add/rm/update, dag import, block put --pin', async () => {
    const files: string[] = []
    for (const n of ['one', 'two']) {
      const f = join(dir, n)
      await writeFile(f, `proxy pin ${n} ${Date.now()}`)
      files.push(f)
    }
    const [one, two] = await Promise.all(
      files.map(async (f) => text(await direct(['add', '-Q', '--pin=false', f]))),
    )
    assert.equal((await viaProxy(['pin', 'add', '--name=via proxy', one as string])).code, 0)
    const pinned = await indexed(one as string)
    assert.equal(pinned.source, 'index')
    assert.deepEqual(
      pinned.pins.map((p) => [p.type, p.name]),
      [['recursive', 'via proxy']],
    )
    assert.equal((await viaProxy(['pin', 'update', one as string, two as string])).code, 0)
    assert.deepEqual((await indexed(one as string)).pins, [])
    assert.deepEqual(
      (await indexed(two as string)).pins.map((p) => p.type),
      ['recursive'],
    )
    assert.equal((await viaProxy(['pin', 'rm', two as string])).code, 0)
    assert.deepEqual((await indexed(two as string)).pins, [])
    // dag import of a CAR made elsewhere pins its root.
    const other = await startKubo()
    try {
      await writeFile(join(dir, 'car-src'), `in a CAR ${Date.now()}`)
      const carRoot = (await other.ipfs(['add', '-Q', join(dir, 'car-src')])).trim()
      const car = await new Promise<Buffer>((resolve, reject) => {
        const c = spawn(other.bin, ['dag', 'export', carRoot], {
          env: { ...process.env, IPFS_PATH: other.ipfsPath },
        })
        const out: Buffer[] = []
        c.stdout.on('data', (b: Buffer) => out.push(b))
        c.on('error', reject)
        c.on('close', () => resolve(Buffer.concat(out)))
      })
      await writeFile(join(dir, 'x.car'), car)
      const imported = await viaProxy(['dag', 'import', join(dir, 'x.car')])
      assert.equal(imported.code, 0, imported.stderr)
      assert.deepEqual(
        (await indexed(carRoot)).pins.map((p) => p.type),
        ['recursive'],
      )
    } finally {
      await other.stop()
    }
    await writeFile(join(dir, 'block'), `a block ${Date.now()}`)
    const block = text(await viaProxy(['block', 'put', '--pin', join(dir, 'block')]))
    assert.deepEqual(
      (await indexed(block)).pins.map((p) => p.type),
      ['recursive'],
    )
    // add with --pin=false changes nothing, and is not recorded as anything.
    await writeFile(join(dir, 'unpinned'), `not pinned ${Date.now()}`)
    const loose = text(await viaProxy(['add', '-Q', '--pin=false', join(dir, 'unpinned')]))
    assert.deepEqual((await indexed(loose)).pins, [])
    const st = await d.status()
    assert.ok((st.proxy.requests ?? 0) > 10)
    // The changes are pin events of ipfs-kit, timed when Kubo confirmed them.
    const events = JSON.parse((await d.cli(['pin', 'events', '--cid', one as string, '--json'])).stdout) as {
      events: Array<{ event: string; source: string }>
    }
    assert.deepEqual(
      events.events.map((e) => [e.event, e.source]),
      [
        ['added', 'ipfs-kit'],
        ['removed', 'ipfs-kit'],
      ],
    )
  })
})

describe('the proxy and Kubo API authorization', () => {
  let kubo: TestKubo
  let e: DaemonEnv
  before(async () => {
    kubo = await startKubo({
      config: [
        ['API.Authorizations', { kit: { AuthSecret: 'bearer:s3cret-token', AllowedPaths: ['/api/v0'] } }],
      ],
    })
    e = await daemonEnv({ ipfsPath: kubo.ipfsPath, extra: { IPFS_KIT_KUBO_AUTH: 'bearer:s3cret-token' } })
    assert.equal((await e.cli(['daemon', 'start', '--interval', '3600'])).code, 0)
  })
  after(async () => {
    await e?.cli(['daemon', 'stop'])
    await kubo?.stop()
  })

  it('adds no credentials: without the token Kubo refuses, with it the call goes through', async () => {
    const api = (await e.status()).proxy.api as string
    const clientRepo = await makeTempDir('client-repo')
    const run = (args: string[]) =>
      new Promise<Run>((resolve) => {
        // A client without the node's repository (which would lend it the node's own credentials).
        const c = spawn(kubo.bin, ['--api', api, ...args], {
          env: { ...process.env, IPFS_PATH: clientRepo },
        })
        const out: Buffer[] = []
        let err = ''
        c.stdout.on('data', (b: Buffer) => out.push(b))
        c.stderr.on('data', (b) => {
          err += b
        })
        c.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }))
      })
    // (`ipfs version` is answered by the CLI itself; `id` asks the API.)
    const refused = await run(['id'])
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /Kubo RPC Access Denied/)
    const ok = await run(['--api-auth', 'bearer:s3cret-token', 'id'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal((JSON.parse(text(ok)) as { ID: string }).ID, kubo.peerId)
  })

  it('refuses to listen beyond loopback unless proxy.allow_remote (exit 2, nothing started)', async () => {
    const f = await daemonEnv({ extra: { IPFS_KIT_PROXY_LISTEN: '0.0.0.0:0' } })
    const r = await f.cli(['daemon', 'start'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /proxy\.listen 0\.0\.0\.0:0 is not a loopback address; refused/)
    assert.match(r.stderr, /proxy\.allow_remote/)
  })
})
