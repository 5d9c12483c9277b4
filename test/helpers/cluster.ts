// A throwaway IPFS Cluster for tests that need one: peers on loopback (CRDT consensus, one shared
// secret, free ports), each in front of its own real Kubo. Cluster is not on the registries this
// project installs from: these tests run only when IPFS_KIT_CLUSTER_BIN (ipfs-cluster-service)
// and IPFS_KIT_CLUSTER_CTL (ipfs-cluster-ctl) name a Cluster build, and are skipped otherwise.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { openSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { makeTempDir, type TestKubo } from './kubo.js'

const execFileP = promisify(execFile)

export interface ClusterBins {
  service: string
  ctl: string
}

/** The Cluster build to test against, or null (the tests are then skipped, and say why). */
export function clusterBins(): ClusterBins | null {
  const service = process.env.IPFS_KIT_CLUSTER_BIN
  const ctl = process.env.IPFS_KIT_CLUSTER_CTL
  return service && ctl ? { service, ctl } : null
}

export const CLUSTER_SKIP_REASON =
  'skipped: set IPFS_KIT_CLUSTER_BIN and IPFS_KIT_CLUSTER_CTL to an IPFS Cluster build (ipfs-cluster-service, ipfs-cluster-ctl) to run'

/** A free TCP port on loopback (bound and released: good enough for a test). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface ClusterPeer {
  path: string
  id: string
  kubo: TestKubo
  restApi: string
  swarm: string
  /** Set while a process of the test's own runs this peer. */
  child: ChildProcess | null
  /** Runs ipfs-cluster-ctl against this peer's REST API; returns stdout. */
  ctl(args: string[], timeoutMs?: number): Promise<string>
}

/**
 * Initialises one Cluster peer per Kubo, all in one cluster: replication `replication`, each
 * peer told the others' addresses, timers short enough for a test. Starts none of them.
 */
export async function makeCluster(
  bins: ClusterBins,
  kubos: TestKubo[],
  replication: number,
): Promise<ClusterPeer[]> {
  const secret = randomBytes(32).toString('hex')
  const peers: ClusterPeer[] = []
  for (const [i, kubo] of kubos.entries()) {
    const path = await makeTempDir(`cluster${i}`)
    await execFileP(bins.service, ['init', '--consensus', 'crdt'], {
      env: { ...process.env, IPFS_CLUSTER_PATH: path },
    })
    const id = (JSON.parse(await readFile(join(path, 'identity.json'), 'utf8')) as { id: string }).id
    const [swarmPort, restPort, proxyPort, pinsvcPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ]
    const restApi = `/ip4/127.0.0.1/tcp/${restPort}`
    const kuboApi = (await readFile(join(kubo.ipfsPath, 'api'), 'utf8')).trim()
    const peer: ClusterPeer = {
      path,
      id,
      kubo,
      restApi,
      swarm: `/ip4/127.0.0.1/tcp/${swarmPort}/p2p/${id}`,
      child: null,
      ctl: async (args, timeoutMs = 60_000) =>
        (
          await execFileP(bins.ctl, ['--host', restApi, ...args], {
            timeout: timeoutMs,
            maxBuffer: 256 * 1024 * 1024,
          })
        ).stdout,
    }
    const c = JSON.parse(await readFile(join(path, 'service.json'), 'utf8'))
    Object.assign(c.cluster, {
      peername: `peer${i}`,
      secret,
      listen_multiaddress: [`/ip4/127.0.0.1/tcp/${swarmPort}`],
      enable_relay_hop: false,
      mdns_interval: '0s',
      replication_factor_min: replication,
      replication_factor_max: replication,
      monitor_ping_interval: '2s',
      peer_watch_interval: '2s',
      state_sync_interval: '10s',
      pin_recover_interval: '10s',
    })
    c.api.restapi.http_listen_multiaddress = restApi
    c.api.ipfsproxy.listen_multiaddress = `/ip4/127.0.0.1/tcp/${proxyPort}`
    c.api.ipfsproxy.node_multiaddress = kuboApi
    c.api.pinsvcapi.http_listen_multiaddress = `/ip4/127.0.0.1/tcp/${pinsvcPort}`
    c.ipfs_connector.ipfshttp.node_multiaddress = kuboApi
    c.ipfs_connector.ipfshttp.connect_swarms_delay = '1s'
    c.monitor.pubsubmon.check_interval = '2s'
    for (const inf of Object.values(c.informer) as Array<{ metric_ttl?: string }>) inf.metric_ttl = '5s'
    await writeFile(join(path, 'service.json'), JSON.stringify(c, null, 2))
    peers.push(peer)
  }
  // Each peer knows every other's address: they find each other whichever starts first.
  for (const p of peers) {
    const file = join(p.path, 'service.json')
    const c = JSON.parse(await readFile(file, 'utf8'))
    c.cluster.peer_addresses = peers.filter((o) => o !== p).map((o) => o.swarm)
    await writeFile(file, JSON.stringify(c, null, 2))
  }
  return peers
}

/** Starts a peer as the test's own process (ipfs-kit starts the peer it runs beside itself). */
export function startPeer(bins: ClusterBins, peer: ClusterPeer): void {
  const out = openSync(join(peer.path, 'test-daemon.log'), 'a')
  peer.child = spawn(bins.service, ['daemon'], {
    env: { ...process.env, IPFS_CLUSTER_PATH: peer.path },
    stdio: ['ignore', out, out],
  })
}

export async function stopPeer(peer: ClusterPeer): Promise<void> {
  const child = peer.child
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(t)
  peer.child = null
}
