// Each piece in its room, shown by what each read command loads: on a running manager with a
// written index (and a pending pin change in the delta), no read command loads the writing half
// of the store (writer.ts, the atomic writer, hyparquet-writer) nor the manager, the indexer or
// the supervisor; only the write commands and the manager do.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCli } from './helpers/cli.js'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { makeTempDir } from './helpers/kubo.js'

const TRACE = fileURLToPath(new URL('./helpers/import-trace.js', import.meta.url))

/**
 * Modules only the manager (the one writer) may load, its HTTP listener among them; and the
 * examination libraries, which a read loads only when it must ask Kubo what a CID is (`du` of a
 * CID the index does not hold).
 */
const WRITING =
  /hyparquet-writer|\/store\/(writer|encoder|encode-worker|atomic|state-writer|pin-delta-writer|content-writer|pin-requests-writer)\.js$|\/indexer\/|\/manager\/(manager|supervisor)\.js$|file-type|@ipld\/dag-pb|ipfs-unixfs|\/http\/|\/hono\/|@hono|prom-client|\/store\/cluster-pins-writer\.js$|\/cluster\/supervisor\.js$/

async function trace(
  d: DaemonEnv,
  args: string[],
  extra: Record<string, string> = {},
): Promise<{ code: number | null; loaded: string[] }> {
  const log = join(await makeTempDir('trace'), 'imports.log')
  const r = await runCli(args, {
    nodeArgs: ['--import', TRACE],
    modules: true,
    env: { ...d.env, ...extra, IPFS_KIT_TEST_IMPORT_LOG: log },
  })
  const loaded = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean)
  return { code: r.code, loaded }
}

describe('rooms: what each command loads', () => {
  let d: DaemonEnv
  let pinned = ''
  before(async () => {
    d = await daemonEnv()
    const start = await d.cli(['daemon', 'start', '--interval', '3600'])
    assert.equal(start.code, 0, start.stderr)
    // A pending change, so that the readers read pins_delta.parquet too.
    const { runIpfs } = await import('../src/kubo/process.js')
    const dir = await makeTempDir('f')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(join(dir, 'f'), 'a file for the delta')
    const cid = (
      await runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, ['add', '-Q', '--pin=false', join(dir, 'f')], {
        ipfsPath: d.ipfsPath,
      })
    ).trim()
    const add = await d.cli(['pin', 'add', cid, '--name', 'rooms'])
    assert.equal(add.code, 0, add.stderr)
    pinned = cid
  })
  after(async () => {
    await d?.cli(['daemon', 'stop'])
  })

  const reads: string[][] = [
    ['pin', 'list', '--json'],
    ['pin', 'list', '--name', 'rooms'],
    ['pin', 'list', '--type', 'direct'],
    ['pin', 'list', '--limit', '0', '--ndjson'],
    ['pin', 'list', '--sort', 'size', '--kind', 'file'],
    ['pin', 'list', '--sort', 'size', '--kind', 'file'],
    ['daemon', 'status', '--json'],
    ['daemon', 'logs', '-n', '5'],
    ['index', 'status', '--json'],
    ['state', '--json'],
    ['state', 'network'],
    ['config', 'show', '--json'],
    ['storage', 'report', '--json'],
    ['doctor', '--json'],
    ['dashboard', '--json'],
  ]
  for (const args of reads) {
    it(`${args.join(' ')} loads no writing code`, async () => {
      const { code, loaded } = await trace(d, args)
      assert.equal(code, 0)
      assert.ok(
        loaded.some((u) => u.endsWith('/cli/main.js')),
        'the trace saw the CLI',
      )
      assert.deepEqual(
        loaded.filter((u) => WRITING.test(u)),
        [],
      )
    })
  }

  // Without a Cluster beside this node they cannot answer (exit 1), and still load no writing code.
  for (const args of [
    ['cluster', 'status', '--json'],
    ['cluster', 'pin', 'list', '--json'],
  ]) {
    it(`${args.join(' ')} loads no writing code`, async () => {
      const { freePort } = await import('./helpers/cluster.js')
      const { code, loaded } = await trace(d, args, {
        IPFS_CLUSTER_PATH: await makeTempDir('no-cluster'),
        IPFS_KIT_CLUSTER_API: `/ip4/127.0.0.1/tcp/${await freePort()}`,
      })
      assert.equal(code, 1)
      assert.ok(loaded.some((u) => u.endsWith('/cluster/query.js')))
      assert.deepEqual(
        loaded.filter((u) => WRITING.test(u)),
        [],
      )
    })
  }

  it('du of a pinned CID answers from content.parquet and loads no writing or examining code', async () => {
    const r = await waitFor(
      'the new pin to be examined',
      async () => {
        const t = await trace(d, ['du', pinned, '--json'])
        return t.code === 0 &&
          t.loaded.some((u) => u.endsWith('/store/content.js')) &&
          !t.loaded.some((u) => u.includes('/content/examine.js'))
          ? t
          : null
      },
      20_000,
    )
    assert.deepEqual(
      r.loaded.filter((u) => WRITING.test(u)),
      [],
    )
  })

  it('pin list answers from the index and reads the store through its readers', async () => {
    const { loaded } = await trace(d, ['pin', 'list', '--json'])
    for (const m of ['/store/reader.js', '/store/pin-delta.js', '/store/pins.js'])
      assert.ok(
        loaded.some((u) => u.endsWith(m)),
        `loads ${m}`,
      )
  })

  it('index refresh asks the manager to write and loads no writer itself', async () => {
    const { code, loaded } = await trace(d, ['index', 'refresh'])
    assert.equal(code, 0)
    assert.deepEqual(
      loaded.filter((u) => WRITING.test(u)),
      [],
    )
  })
})
