// What a user sees when Kubo is not there, is dead, refuses, hangs, cuts a stream or answers
// garbage: each is a typed error with a message to act on. Real Kubo where the test is about
// Kubo (dead daemon, unix socket, authorization); small fake servers only for our own handling
// of broken answers, which a healthy Kubo does not give on demand.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import {
  AbortedError,
  KuboResponseError,
  KuboRpcError,
  KuboStreamError,
  KuboTimeoutError,
  KuboUnreachableError,
} from '../src/errors.js'
import type { ApiAddress } from '../src/kubo/address.js'
import { KuboRpc, MAX_NDJSON_LINE_BYTES } from '../src/kubo/rpc.js'
import { apiAddressOf, makeTempDir, startKubo } from './helpers/kubo.js'

const servers: Server[] = []
after(() => {
  for (const s of servers) s.close()
})

async function fakeKubo(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ApiAddress> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return { kind: 'tcp', host: '127.0.0.1', port, multiaddr: `/ip4/127.0.0.1/tcp/${port}` }
}

async function freePort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

async function drain(iter: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of iter) n++
  return n
}

describe('KuboRpc errors', () => {
  it('a wrong address gives KuboUnreachableError that says to start the daemon', async () => {
    const port = await freePort()
    const rpc = new KuboRpc({ address: { kind: 'tcp', host: '127.0.0.1', port, multiaddr: '' } })
    await assert.rejects(rpc.id(), (err: unknown) => {
      assert.ok(err instanceof KuboUnreachableError)
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`))
      assert.match(err.hint ?? '', /ipfs-kit daemon start/)
      return true
    })
  })

  it('a dead daemon (SIGKILL, api file left behind) gives KuboUnreachableError', async () => {
    const kubo = await startKubo({ keepRepo: true })
    try {
      kubo.daemon.child.kill('SIGKILL')
      await kubo.daemon.exited
      const address = await apiAddressOf(kubo.ipfsPath)
      await assert.rejects(new KuboRpc({ address }).version(), KuboUnreachableError)
    } finally {
      await kubo.stop()
    }
  })

  it('an HTTP 500 with Kubo error body becomes KuboRpcError with its message and code', async () => {
    const address = await fakeKubo((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Message: 'datastore is on fire', Code: 0, Type: 'error' }))
    })
    await assert.rejects(new KuboRpc({ address }).repoStat(), (err: unknown) => {
      assert.ok(err instanceof KuboRpcError)
      assert.equal(err.status, 500)
      assert.equal(err.kuboMessage, 'datastore is on fire')
      assert.equal(err.kuboCode, 0)
      assert.match(err.message, /repo\/stat failed \(HTTP 500\): datastore is on fire/)
      return true
    })
  })

  it('an HTTP 500 with a body that is not Kubo JSON still reports what came back', async () => {
    const address = await fakeKubo((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' })
      res.end('<html>bad gateway</html>')
    })
    await assert.rejects(new KuboRpc({ address }).id(), /HTTP 502\): <html>bad gateway<\/html>/)
  })

  it('a server that never answers gives KuboTimeoutError within the timeout', async () => {
    const address = await fakeKubo(() => {
      // never answers
    })
    const rpc = new KuboRpc({ address, timeoutMs: 300 })
    await assert.rejects(rpc.version(), (err: unknown) => {
      assert.ok(err instanceof KuboTimeoutError)
      assert.match(err.message, /did not answer within 300 ms/)
      return true
    })
  })

  it('a stream that goes silent gives KuboTimeoutError (idle timeout)', async () => {
    const address = await fakeKubo((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"Cid":"bafkqaaa","Type":"recursive"}\n')
      // then silence
    })
    const rpc = new KuboRpc({ address, timeoutMs: 300 })
    await assert.rejects(drain(rpc.pinLs({ type: 'recursive' })), KuboTimeoutError)
  })

  it('a stream cut mid-way gives KuboStreamError, not a short list', async () => {
    const address = await fakeKubo((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"Cid":"bafkqaaa","Type":"recursive"}\n{"Cid":"bafkq')
      setTimeout(() => req.socket.destroy(), 20)
    })
    await assert.rejects(drain(new KuboRpc({ address }).pinLs()), KuboStreamError)
  })

  it('a stream line longer than the cap gives KuboResponseError and stops reading, not an ever-growing buffer', async () => {
    let sent = 0
    let cut = false
    const address = await fakeKubo((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"Cid":"bafkqaaa","Type":"recursive"}\n{"Cid":"')
      // One line that never ends: 64 KiB at a time, until the client hangs up (or 16 MiB).
      const chunk = 'a'.repeat(64 * 1024)
      const more = () => {
        while (sent < 16 * 1024 * 1024 && !cut) {
          sent += chunk.length
          if (!res.write(chunk)) return res.once('drain', more)
        }
        res.end()
      }
      req.socket.once('close', () => {
        cut = true
      })
      more()
    })
    let yielded = 0
    await assert.rejects(
      (async () => {
        for await (const _ of new KuboRpc({ address }).pinLs()) yielded++
      })(),
      (err: unknown) => {
        assert.ok(err instanceof KuboResponseError, String(err))
        assert.match(err.message, new RegExp(`longer than ${MAX_NDJSON_LINE_BYTES} bytes \\(line 2\\)`))
        return true
      },
    )
    assert.equal(yielded, 1, 'the line before the long one was handed out')
    assert.ok(sent < 8 * 1024 * 1024, `the client hung up soon after the cap (server had sent ${sent} bytes)`)
  })

  it('an X-Stream-Error trailer gives KuboStreamError with Kubo message', async () => {
    const address = await fakeKubo((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', trailer: 'X-Stream-Error' })
      res.write('{"Cid":"bafkqaaa","Type":"recursive"}\n')
      res.addTrailers({ 'X-Stream-Error': 'context canceled' })
      res.end()
    })
    await assert.rejects(drain(new KuboRpc({ address }).pinLs()), /ended with an error: context canceled/)
  })

  it('garbage in place of JSON gives KuboResponseError', async () => {
    const address = await fakeKubo((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        req.url?.startsWith('/api/v0/pin/ls') ? '{"Cid":"x","Type":"recursive"}\nnot json\n' : '<<garbage>>',
      )
    })
    const rpc = new KuboRpc({ address })
    await assert.rejects(rpc.id(), KuboResponseError)
    await assert.rejects(drain(rpc.pinLs()), /line that is not JSON \(line 2\)/)
  })

  it('JSON of the wrong shape gives KuboResponseError naming the field', async () => {
    const address = await fakeKubo((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"RepoSize":"big"}')
    })
    await assert.rejects(new KuboRpc({ address }).repoStat(), /no numeric field RepoSize/)
  })

  it('yields pins as they arrive instead of buffering the whole stream', async () => {
    // The server sends the second half only after the client has yielded the first half: a
    // client that buffered the whole answer before yielding would never get there.
    let release: () => void = () => {}
    const firstHalfSeen = new Promise<void>((r) => {
      release = r
    })
    const line = (i: number) => `{"Cid":"bafkqaaa${i}","Type":"recursive"}\n`
    const address = await fakeKubo((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      for (let i = 0; i < 1000; i++) res.write(line(i))
      void firstHalfSeen.then(() => {
        for (let i = 1000; i < 2000; i++) res.write(line(i))
        res.end()
      })
    })
    let n = 0
    for await (const _ of new KuboRpc({ address, timeoutMs: 5_000 }).pinLs()) {
      if (++n === 1000) release()
    }
    assert.equal(n, 2000)
  })

  it('an aborted signal stops a call with AbortedError', async () => {
    const address = await fakeKubo(() => {})
    const controller = new AbortController()
    const pending = new KuboRpc({ address }).id({ signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await assert.rejects(pending, AbortedError)
  })

  it('talks to a real Kubo on a /unix socket', async () => {
    const dir = await makeTempDir('sock')
    const socket = join(dir, 'api.sock')
    const kubo = await startKubo({ config: [['Addresses.API', `/unix${socket}`]] })
    try {
      const address = await apiAddressOf(kubo.ipfsPath)
      assert.deepEqual(address.kind === 'unix' && address.socketPath, socket)
      assert.equal((await new KuboRpc({ address }).id()).id, kubo.peerId)
    } finally {
      await kubo.stop()
    }
  })

  it('sends Kubo API.Authorizations credentials, and explains a refusal without them', async () => {
    const kubo = await startKubo({
      config: [
        ['API.Authorizations', { tests: { AuthSecret: 'bearer:s3cret-token', AllowedPaths: ['/api/v0'] } }],
      ],
    })
    try {
      const address = await apiAddressOf(kubo.ipfsPath)
      assert.equal((await new KuboRpc({ address, auth: 'bearer:s3cret-token' }).id()).id, kubo.peerId)
      await assert.rejects(new KuboRpc({ address }).id(), (err: unknown) => {
        assert.ok(err instanceof KuboRpcError)
        assert.ok(err.status === 401 || err.status === 403, `status ${err.status}`)
        assert.match(err.hint ?? '', /kubo\.auth/)
        assert.doesNotMatch(err.message, /s3cret/)
        return true
      })
      await assert.rejects(new KuboRpc({ address, auth: 'basic:user:wrong' }).id(), KuboRpcError)
    } finally {
      await kubo.stop()
    }
  })
})
