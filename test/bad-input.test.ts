// Bad command-line input, one table: each case exits 2 with a message whose first line names the
// bad value, prints nothing on stdout, and touches neither Kubo nor the index: a listener in
// place of Kubo's API sees no connection, the IPFS_KIT_PATH folder is never created, and the
// process loads no Parquet, CID-listing or RPC code at all.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCli } from './helpers/cli.js'
import { makeTempDir } from './helpers/kubo.js'

const TRACE = fileURLToPath(new URL('./helpers/import-trace.js', import.meta.url))
const CID = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'
// Linux refuses a single argument of 128 KiB or more (MAX_ARG_STRLEN) before any program runs,
// so this is the largest argument that can reach ipfs-kit at all.
const HUGE = 'Q'.repeat(128 * 1024 - 1)

const cases: Array<[string, string[], RegExp]> = [
  ['an invalid CID', ['pin', 'list', '--cid', 'not-a-cid'], /invalid --cid "not-a-cid"/],
  ['a negative limit', ['pin', 'list', '--limit', '-1'], /--limit must be a whole number .*got "-1"/],
  ['a non-numeric limit', ['pin', 'list', '--limit', 'ten'], /--limit must be a whole number .*got "ten"/],
  ['a fractional limit', ['pin', 'list', '--limit', '1.5'], /--limit must be a whole number .*got "1\.5"/],
  [
    'an unknown type',
    ['pin', 'list', '--type', 'indirect'],
    /--type must be recursive or direct, got "indirect"/,
  ],
  ['an unknown flag', ['pin', 'list', '--bogus'], /pin list: Unknown option '--bogus'/],
  ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ['an unknown subcommand', ['pin', 'frob'], /unknown subcommand 'pin frob'/],
  ['an empty name', ['pin', 'list', '--name', ''], /--name needs some text/],
  ['a size that is not one', ['pin', 'list', '--min-size', 'lots'], /--min-size must be a size .*got "lots"/],
  ['a negative size', ['pin', 'list', '--min-size', '-5'], /--min-size must be a size .*got "-5"/],
  ['an unknown sort', ['pin', 'list', '--sort', 'sideways'], /--sort must be cid or size, got "sideways"/],
  ['an unknown kind', ['pin', 'list', '--kind', 'nothing'], /--kind must be one of file, .*got "nothing"/],
  ['a MIME type that is not one', ['pin', 'list', '--mime', 'png'], /--mime must be a MIME type .*got "png"/],
  ['du of an invalid CID', ['du', 'notacid'], /invalid CID "notacid"/],
  [
    'storage report with an argument',
    ['storage', 'report', 'extra'],
    /storage report: unexpected argument "extra"/,
  ],
  ['a 128 KiB argument', ['pin', 'list', '--cid', HUGE], /invalid --cid "Q{10,80}/],
  [
    'a CID with whitespace',
    ['pin', 'add', ` ${CID}\n`],
    /invalid CID " QmUNLL\w+\\n": it is empty or has spaces/,
  ],
  [
    'a path instead of a CID',
    ['pin', 'add', `/ipfs/${CID}`],
    /invalid CID "\/ipfs\/QmUNLL\w+": give a CID, not a path/,
  ],
  ['a CID that does not decode', ['pin', 'rm', 'bafybad'], /invalid CID "bafybad"/],
  ['a missing argument', ['pin', 'add'], /pin add: missing argument/],
  [
    'a negative interval',
    ['daemon', 'start', '--interval', '-5'],
    /--interval must be a positive number of seconds, got "-5"/,
  ],
  ['an unknown state area', ['state', 'bogus'], /state: unknown area "bogus"/],
  ['an extra argument', ['config', 'show', 'extra'], /config show: unexpected argument "extra"/],
  [
    'a time that is none',
    ['pin', 'events', '--since', 'yesterday-ish'],
    /--since "yesterday-ish" is neither a duration/,
  ],
  ['a negative duration', ['pin', 'list', '--since', '-5m'], /--since "-5m" is neither a duration/],
  ['events of an invalid CID', ['pin', 'events', '--cid', 'notacid'], /invalid --cid "notacid"/],
  ['an unknown history', ['state', 'history', 'weather'], /state history: unknown kind "weather"/],
  [
    'a range backwards',
    ['state', 'history', 'storage', '--since', '1h', '--until', '2h'],
    /--since must be before --until/,
  ],
  [
    'peers --since without --history',
    ['state', 'peers', '--since', '1h'],
    /--since and --until need --history/,
  ],
  ['an empty query', ['sql', '  '], /sql: the query is empty/],
  [
    'an unknown cluster status',
    ['cluster', 'pin', 'list', '--status', 'fine'],
    /cluster pin list: unknown status "fine"; Cluster's statuses are/,
  ],
  [
    'a cluster lookup of an invalid CID',
    ['cluster', 'pin', 'list', '--cid', 'notacid'],
    /invalid CID "notacid"/,
  ],
  [
    'a negative cluster limit',
    ['cluster', 'pin', 'list', '--limit', '-1'],
    /cluster pin list: --limit must be a whole number .*got "-1"/,
  ],
  ['an unknown cluster subcommand', ['cluster', 'pin', 'frob'], /unknown subcommand 'cluster pin frob'/],
  [
    'cluster status with an argument',
    ['cluster', 'status', 'extra'],
    /cluster status: unexpected argument "extra"/,
  ],
]

let api: Server
let connections = 0
let port = 0
before(async () => {
  api = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  port = (api.address() as { port: number }).port
})
after(() => api.close())

describe('bad command-line input', () => {
  for (const [what, args, why] of cases) {
    it(`${what}: exit 2, names the value, touches nothing`, async () => {
      const root = await makeTempDir('bad-input')
      const kit = join(root, 'kit')
      const log = join(root, 'imports.log')
      const r = await runCli(args, {
        nodeArgs: ['--import', TRACE],
        modules: true,
        env: {
          IPFS_KIT_PATH: kit,
          IPFS_PATH: join(root, 'ipfs'),
          IPFS_KIT_KUBO_API: `/ip4/127.0.0.1/tcp/${port}`,
          IPFS_KIT_TEST_IMPORT_LOG: log,
        },
      })
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout, '')
      const lines = r.stderr.trimEnd().split('\n')
      assert.match(lines[0] as string, why)
      assert.ok(lines.length <= 2 && (lines[1] ?? '  ').startsWith('  '), 'one line, and at most one hint')
      assert.ok(r.stderr.length < 600, 'the bad value is shortened, not echoed whole')
      assert.equal(connections, 0, 'no connection to the Kubo API')
      assert.equal(existsSync(kit), false, 'nothing created under IPFS_KIT_PATH')
      const loaded = (await readFile(log, 'utf8')).split('\n')
      const heavy = loaded.filter((u) => /hyparquet|\/store\/|\/kubo\/rpc\.js|node:(http|net)$/.test(u))
      assert.deepEqual(heavy, [])
    })
  }
})
