// The Cluster side's own error handling, with no Cluster needed: bad input to `cluster ...` (exit
// 2), a bad cluster.api refused before anything starts, Cluster's REST client against servers that
// misbehave (a fake may test our error handling, never stand in for Cluster), and the cluster
// index checked like every index file: answered without Cluster when it is valid and this Cluster
// peer's, refused (with the reason, then the fallback's clear error) when it is not.
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ClusterRest } from '../src/cluster/rest.js'
import { ClusterApiError, ClusterUnreachableError } from '../src/errors.js'
import type { ClusterPinRow } from '../src/store/cluster-pins-format.js'
import { writeClusterPinsFile } from '../src/store/cluster-pins-writer.js'
import { runCli } from './helpers/cli.js'
import { freePort } from './helpers/cluster.js'
import { makeTempDir } from './helpers/kubo.js'

const servers: Server[] = []
after(() => {
  for (const s of servers) s.close()
})

async function fakeCluster(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ClusterRest> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return new ClusterRest({
    address: { kind: 'tcp', host: '127.0.0.1', port, multiaddr: `/ip4/127.0.0.1/tcp/${port}` },
    timeoutMs: 1_000,
  })
}

async function drain(iter: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of iter) n++
  return n
}

const PEER_A = '12D3KooWPRoRFYBM9E5LaZmENw6MN4QoUE4x8Ma1QoqNrFPA6qbu'
const PEER_B = '12D3KooWQXq9EWXwvkXGwr5ASf5V3sG79XcKecRn1aoDiCqp1bTC'
const CIDS = [
  'QmPLekRdK4oCKeE7x1M5kZRK4vvQqbgWteGfVyFj2fdXE2',
  'QmTCj5T6q4aHJBvbCFa8j8JthNhhefJx7krsdAb4LshCbZ',
  'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
]

function row(cid: string, i: number, replicationMin = 1): ClusterPinRow {
  return {
    cid,
    name: `pin ${i}`,
    type: 'pin',
    replication_min: replicationMin,
    replication_max: 2,
    allocations: [PEER_A, PEER_B],
    peer_status: {
      [PEER_A]: { status: 'pinned', timestamp: '2026-12-01T00:00:00.000Z' },
      [PEER_B]: { status: i === 1 ? 'pin_error' : 'pinned', timestamp: '2026-12-01T00:00:00.000Z' },
    },
    status_at: new Date('2026-12-01T00:00:01Z'),
    metadata: { owner: 'test' },
    timestamp: new Date('2026-11-30T00:00:00Z'),
    expire_at: null,
  }
}

/** An IPFS_KIT_PATH with a cluster index written for `writtenFor`, and a Cluster folder whose identity is `identity`. */
async function setup(writtenFor: string, identity: string, rows: ClusterPinRow[]) {
  const root = await makeTempDir('cluster-errors')
  const kitPath = join(root, 'kit')
  const clusterPath = join(root, 'cluster')
  await mkdir(clusterPath, { recursive: true })
  await writeFile(join(clusterPath, 'identity.json'), JSON.stringify({ id: identity }))
  await writeClusterPinsFile(
    kitPath,
    { writer: 'ipfs-kit test', peerId: writtenFor, kuboVersion: null, generatedAt: new Date() },
    rows,
    {
      pinsetSha256: 'x',
      ipfsPeerId: null,
      peername: 'peer0',
      clusterVersion: '1.1.6',
      peers: [
        { id: PEER_A, peername: 'peer0', ipfs_peer_id: null, free_space_bytes: 1000, error: null },
        { id: PEER_B, peername: 'peer1', ipfs_peer_id: null, free_space_bytes: null, error: 'gone' },
      ],
      statusAt: new Date(),
      statusError: null,
    },
  )
  // A Cluster API address where nothing listens: the fallback can only fail.
  const env = {
    IPFS_KIT_PATH: kitPath,
    IPFS_CLUSTER_PATH: clusterPath,
    IPFS_KIT_CLUSTER_API: `/ip4/127.0.0.1/tcp/${await freePort()}`,
  }
  return { env, cli: (args: string[]) => runCli(args, { env }) }
}

describe('cluster commands: bad input', () => {
  it('exits 2 on an unknown status, an invalid CID, a bad limit, an unknown subcommand', async () => {
    for (const [args, pattern] of [
      [
        ['cluster', 'pin', 'list', '--status', 'fine'],
        /unknown status "fine"; Cluster's statuses are .*pinned/,
      ],
      [['cluster', 'pin', 'list', '--cid', 'notacid'], /invalid CID "notacid"/],
      [['cluster', 'pin', 'list', '--limit', '-1'], /--limit must be a whole number/],
      [['cluster', 'pin', 'frob'], /unknown subcommand 'cluster pin frob'/],
      [['cluster', 'stat'], /unknown subcommand 'cluster stat'/],
    ] as const) {
      const r = await runCli([...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, pattern)
    }
  })

  it('daemon start refuses a cluster.api that is not an address before starting anything (exit 2)', async () => {
    const kitPath = join(await makeTempDir('cluster-api'), 'kit')
    const r = await runCli(['daemon', 'start'], {
      env: {
        IPFS_KIT_PATH: kitPath,
        IPFS_KIT_CLUSTER_ENABLED: 'true',
        IPFS_KIT_CLUSTER_API: 'localhost:9094',
      },
    })
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /cluster\.api \(IPFS_KIT_CLUSTER_API\).*a multiaddr starts with \//)
  })

  it('doctor says where to get Cluster when it is not found', async () => {
    // No Cluster anywhere (also when the tests that need one were given IPFS_KIT_CLUSTER_BIN).
    const none = { PATH: '/nonexistent', IPFS_KIT_CLUSTER_BIN: '' }
    const r = await runCli(['doctor', '--json'], {
      env: { IPFS_KIT_PATH: join(await makeTempDir('doctor'), 'kit'), ...none },
    })
    const report = JSON.parse(r.stdout)
    assert.equal(report.cluster.enabled, false)
    assert.equal(report.cluster.status, 'ok', 'not enabled: nothing to fail')
    assert.match(report.cluster.binary_problem, /no ipfs-cluster-service found/)
    const text = await runCli(['doctor'], {
      env: { IPFS_KIT_PATH: report.ipfs_kit_path, ...none },
    })
    assert.match(text.stdout, /build it from github\.com\/ipfs-cluster\/ipfs-cluster/)
  })
})

describe('the cluster index, checked like every index file', () => {
  it('answers from a valid index of this Cluster peer, with no Cluster running', async () => {
    const s = await setup(
      PEER_A,
      PEER_A,
      [...CIDS].sort().map((c, i) => row(c, i)),
    )
    const r = await s.cli(['cluster', 'pin', 'list', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    assert.equal(json.source, 'index')
    assert.equal(json.total, 3)
    assert.deepEqual(
      json.pins.map((p: { cid: string }) => p.cid),
      [...CIDS].sort(),
    )
    const errored = JSON.parse(
      (await s.cli(['cluster', 'pin', 'list', '--status', 'pin_error', '--json'])).stdout,
    )
    assert.deepEqual(
      errored.pins.map((p: { name: string }) => p.name),
      ['pin 1'],
    )
    // Either spelling of a v0 CID finds it.
    const { CID } = await import('multiformats/cid')
    const v1 = CID.parse(CIDS[0] as string)
      .toV1()
      .toString()
    assert.deepEqual(
      JSON.parse((await s.cli(['cluster', 'pin', 'list', '--cid', v1, '--json'])).stdout).pins.map(
        (p: { cid: string }) => p.cid,
      ),
      [CIDS[0]],
    )
    const st = JSON.parse((await s.cli(['cluster', 'status', '--json'])).stdout)
    assert.equal(st.pins.total, 3)
    assert.equal(st.pins.fully_pinned, 2)
    assert.deepEqual(st.peers.find((p: { id: string }) => p.id === PEER_B).pins_by_status, {
      pinned: 2,
      pin_error: 1,
    })
  })

  it("refuses another Cluster peer's index, says why, then that Cluster does not answer either (exit 1)", async () => {
    const s = await setup(PEER_B, PEER_A, [row(CIDS[0] as string, 0)])
    const r = await s.cli(['cluster', 'pin', 'list'])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      new RegExp(
        `neither the cluster index nor Cluster's REST API can answer: .*belongs to peer ${PEER_B}.*not reachable`,
      ),
    )
  })

  it('refuses rows no Cluster writes (a replication below -1)', async () => {
    const bad = await setup(PEER_A, PEER_A, [row(CIDS[0] as string, 0, -5)])
    const r = await bad.cli(['cluster', 'pin', 'list'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /row 0 has replication_min -5, which Cluster never sets/)
  })

  it('with no cluster index and no Cluster, a clear error', async () => {
    const root = await makeTempDir('no-cluster')
    const r = await runCli(['cluster', 'status'], {
      env: {
        IPFS_KIT_PATH: join(root, 'kit'),
        IPFS_CLUSTER_PATH: join(root, 'cluster'),
        IPFS_KIT_CLUSTER_API: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      },
    })
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /the Cluster peer beside this node is not known.*REST API at 127\.0\.0\.1:\d+ is not reachable/,
    )
    assert.match(r.stderr, /cluster\.enabled: true/)
  })
})

describe("Cluster's REST client against servers that misbehave", () => {
  it("an error answer becomes ClusterApiError with Cluster's message", async () => {
    const rest = await fakeCluster((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 500, message: 'not enough peers to allocate CID' }))
    })
    await assert.rejects(rest.id(), (err: unknown) => {
      assert.ok(err instanceof ClusterApiError)
      assert.match(err.message, /HTTP 500\): not enough peers to allocate CID/)
      return true
    })
  })

  it('a stream cut mid-way, an X-Stream-Error trailer and a garbage line are errors, not short answers', async () => {
    const pin = JSON.stringify({ cid: CIDS[0], name: 'a', type: 'pin', allocations: [] })
    const cut = await fakeCluster((req, res) => {
      res.socket?.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n${pin}\n`,
      )
      res.socket?.end()
      void req
    })
    await assert.rejects(drain(cut.allocations()), /was cut before it ended|connection|failed/)
    const trailer = await fakeCluster((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', trailer: 'X-Stream-Error' })
      res.write(`${pin}\n`)
      res.addTrailers({ 'X-Stream-Error': 'context canceled' })
      res.end()
    })
    await assert.rejects(drain(trailer.allocations()), (err: unknown) => {
      assert.ok(err instanceof ClusterApiError)
      assert.match(err.message, /ended with an error: context canceled/)
      return true
    })
    const garbage = await fakeCluster((_req, res) => {
      res.writeHead(200)
      res.end(`${pin}\n<html>\n`)
    })
    await assert.rejects(drain(garbage.allocations()), /line that is not JSON \(line 2\)/)
    const empty = await fakeCluster((_req, res) => {
      res.writeHead(204)
      res.end()
    })
    assert.equal(await drain(empty.allocations()), 0, '204 No Content is an empty pinset')
  })

  it('a server that hangs times out; nothing listening is unreachable', async () => {
    const hang = await fakeCluster(() => {})
    await assert.rejects(hang.id(), (err: unknown) => {
      assert.ok(err instanceof ClusterUnreachableError)
      assert.match(err.message, /did not answer \/id within 1000 ms/)
      return true
    })
    const port = await freePort()
    const none = new ClusterRest({ address: { kind: 'tcp', host: '127.0.0.1', port, multiaddr: '' } })
    await assert.rejects(none.id(), /not reachable \(ECONNREFUSED\); is the Cluster peer running\?/)
  })
})
