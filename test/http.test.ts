// The manager's HTTP listener on a real node: the token (0600, made once, kept), every route
// refused without it, /metrics true to the node and clean for promtool, bodies capped, no file
// named by a request, the dashboard login (one-time link, session cookie for the dashboard only),
// and the listen address rules (loopback unless allowed; a port taken costs HTTP, not the daemon).
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { toolOrSkip } from './helpers/tools.js'

let d: DaemonEnv
let url: string
let token: string
const auth = () => ({ Authorization: `Bearer ${token}` })

before(async () => {
  d = await daemonEnv()
  const r = await d.cli(['daemon', 'start'])
  assert.equal(r.code, 0, r.stderr)
  const st = await d.status()
  assert.equal(st.http.state, 'listening')
  url = st.http.url as string
  token = (await readFile(join(d.kitPath, 'run', 'http.token'), 'utf8')).trim()
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

async function metricsText(): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: auth() })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  return res.text()
}

describe('the HTTP listener', () => {
  it('serves on loopback with a token of its own in run/http.token (0600), named in daemon status', async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal((await d.status()).http.pinning_endpoint, `${url}/pinning`)
    assert.equal((await stat(join(d.kitPath, 'run', 'http.token'))).mode & 0o777, 0o600)
    assert.match(token, /^[A-Za-z0-9_-]{32,}$/)
  })

  it('refuses every route without the token, or with a wrong one, in the spec error shape', async () => {
    for (const path of [
      '/metrics',
      '/pinning/pins',
      '/pinning/pins/abc',
      '/api/status',
      '/api/pins',
      '/assets/app.js',
    ]) {
      for (const headers of [
        {},
        { Authorization: 'Bearer wrong' },
        { Authorization: `Basic ${token}` },
      ] as Array<Record<string, string>>) {
        const res = await fetch(`${url}${path}`, { headers })
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
        const body = (await res.json()) as { error: { reason: string } }
        assert.equal(body.error.reason, 'UNAUTHORIZED')
      }
    }
    const page = await fetch(`${url}/`)
    assert.equal(page.status, 401)
    assert.match(await page.text(), /ipfs-kit dashboard/)
    const post = await fetch(`${url}/pinning/pins`, { method: 'POST', body: '{"cid":"x"}' })
    assert.equal(post.status, 401)
  })

  it('/metrics says what the node holds, and passes promtool check metrics', async (t) => {
    const text = await metricsText()
    const pins = (await d.cli(['pin', 'list', '--json', '--limit', '0'])).stdout
    const recursive = (JSON.parse(pins) as { pins: Array<{ type: string }> }).pins.filter(
      (p) => p.type === 'recursive',
    ).length
    assert.match(text, new RegExp(`^ipfs_kit_pins\\{type="recursive"\\} ${recursive}$`, 'm'))
    assert.match(text, /^ipfs_kit_kubo_up 1$/m)
    assert.match(text, /^ipfs_kit_index_cycle_duration_seconds_count [1-9]\d*$/m)
    assert.match(text, /^ipfs_kit_collector_last_success_timestamp_seconds\{collector="pins"\} \d/m)
    // The same figure the storage state holds (both from the last cycle's repo/stat).
    const storage = JSON.parse((await d.cli(['state', 'storage', '--json'])).stdout) as {
      generated_at: string
      values: { repo_size_bytes: number }
    }
    const fresh = await metricsText()
    const stateAsOf = JSON.parse((await d.cli(['state', 'storage', '--json'])).stdout).generated_at
    if (stateAsOf === storage.generated_at)
      assert.match(fresh, new RegExp(`^ipfs_kit_repo_size_bytes ${storage.values.repo_size_bytes}$`, 'm'))
    // Requests are counted by route pattern, never by raw path.
    await fetch(`${url}/pinning/pins/some-id-${Date.now()}`, { headers: auth() })
    const after = await metricsText()
    assert.match(
      after,
      /ipfs_kit_http_requests_total\{route="\/pinning\/pins\/:requestid",method="GET",code="404"\} 1/,
    )
    assert.doesNotMatch(after, /some-id-/)
    const promtool = toolOrSkip('/usr/bin/promtool')
    if (!promtool) return t.skip('promtool is not installed (Debian package prometheus)')
    const child = execFile(promtool, ['check', 'metrics'])
    child.stdin?.end(after)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(code, 0, 'promtool check metrics')
  })

  it('caps request bodies and names no file from a request', async () => {
    const big = await fetch(`${url}/pinning/pins`, {
      method: 'POST',
      headers: { ...auth(), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        cid: 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn',
        name: 'x'.repeat(100_000),
      }),
    })
    assert.equal(big.status, 413)
    for (const path of [
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/../../package.json',
    ]) {
      const res = await fetch(`${url}${path}`, { headers: auth() })
      assert.ok(res.status === 404, `${path}: ${res.status}`)
      assert.doesNotMatch(await res.text(), /"name": "ipfs-kit"/)
    }
    const app = await fetch(`${url}/assets/app.js`, { headers: auth() })
    assert.equal(app.status, 200)
    assert.match(app.headers.get('content-type') ?? '', /javascript/)
  })

  it('logs a browser in with a one-time link: a session for the dashboard only', async () => {
    const r = await d.cli(['dashboard', '--print-url'])
    assert.equal(r.code, 0, r.stderr)
    const link = r.stdout.trim()
    assert.ok(link.startsWith(`${url}/login?code=`), link)
    assert.ok(!link.includes(token), 'the token never enters a URL')
    const login = await fetch(link, { redirect: 'manual' })
    assert.equal(login.status, 303)
    assert.equal(login.headers.get('location'), '/')
    const cookie = login.headers.get('set-cookie') ?? ''
    assert.match(cookie, /HttpOnly/i)
    assert.match(cookie, /SameSite=Strict/i)
    const session = cookie.split(';')[0] as string
    const page = await fetch(`${url}/`, { headers: { Cookie: session } })
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    assert.equal((await fetch(`${url}/api/status`, { headers: { Cookie: session } })).status, 200)
    // The session is the dashboard's: it opens neither the Pinning Service API nor the metrics.
    assert.equal((await fetch(`${url}/pinning/pins`, { headers: { Cookie: session } })).status, 401)
    assert.equal((await fetch(`${url}/metrics`, { headers: { Cookie: session } })).status, 401)
    // A link works once.
    assert.equal((await fetch(link, { redirect: 'manual' })).status, 401)
    const json = JSON.parse((await d.cli(['dashboard', '--json'])).stdout) as {
      url: string
      login_url: string
    }
    assert.equal(json.url, url)
  })
})

describe('where the listener may listen', () => {
  it('refuses an address that is not loopback unless http.allow_remote, before anything starts (exit 2)', async () => {
    const e = await daemonEnv({ extra: { IPFS_KIT_HTTP_LISTEN: '0.0.0.0:0' } })
    const r = await e.cli(['daemon', 'start'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /http\.listen 0\.0\.0\.0:0 is not a loopback address; refused/)
    assert.match(r.stderr, /http\.allow_remote/)
    assert.equal(existsSync(join(e.kitPath, 'run', 'manager.lock')), false)
    const bad = await daemonEnv({ extra: { IPFS_KIT_HTTP_LISTEN: 'localhost' } })
    const b = await bad.cli(['daemon', 'start'])
    assert.equal(b.code, 2)
    assert.match(b.stderr, /http\.listen "localhost" is not host:port/)
  })

  it('serves on another address when allowed, and nothing with off', async () => {
    const e = await daemonEnv({
      extra: { IPFS_KIT_HTTP_LISTEN: '0.0.0.0:0', IPFS_KIT_HTTP_ALLOW_REMOTE: 'true' },
    })
    assert.equal((await e.cli(['daemon', 'start'])).code, 0)
    const st = await e.status()
    assert.equal(st.http.state, 'listening')
    const res = await fetch(`${st.http.url}/metrics`)
    assert.equal(res.status, 401, 'a remote listener still needs the token')
    assert.equal((await e.cli(['daemon', 'stop'])).code, 0)
    const off = await daemonEnv({ extra: { IPFS_KIT_HTTP_LISTEN: 'off' } })
    assert.equal((await off.cli(['daemon', 'start'])).code, 0)
    const offStatus = await off.status()
    assert.equal(offStatus.http.url, null)
    assert.equal(offStatus.http.state, 'off')
    const dash = await off.cli(['dashboard', '--print-url'])
    assert.equal(dash.code, 1)
    assert.match(dash.stderr, /http\.listen is 'off'/)
    assert.equal((await off.cli(['daemon', 'stop'])).code, 0)
  })

  it('a port already taken costs the HTTP listener, not the daemon: daemon status says why', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const e = await daemonEnv({ extra: { IPFS_KIT_HTTP_LISTEN: `127.0.0.1:${port}` } })
      assert.equal((await e.cli(['daemon', 'start'])).code, 0)
      const st = await e.status()
      assert.equal(st.http.state, 'failed')
      assert.match(st.http.error ?? '', new RegExp(`127\\.0\\.0\\.1:${port} is already in use`))
      assert.ok(st.problems.some((p) => /HTTP listener is not serving/.test(p)))
      assert.equal((await e.cli(['pin', 'list', '--json'])).code, 0, 'the index works without HTTP')
      assert.equal((await e.cli(['daemon', 'stop'])).code, 0)
    } finally {
      blocker.close()
    }
  })
})
