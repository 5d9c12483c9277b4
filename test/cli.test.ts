// The ipfs-kit binary itself: help that lists every command group, exit codes of DESIGN.md, and
// a start path that loads nothing heavy.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCli } from './helpers/cli.js'
import { makeTempDir } from './helpers/kubo.js'

const TRACE = fileURLToPath(new URL('./helpers/import-trace.js', import.meta.url))

describe('ipfs-kit CLI', () => {
  it('--help lists every command group of DESIGN.md and exits 0', async () => {
    const r = await runCli(['--help'])
    assert.equal(r.code, 0)
    for (const group of ['daemon', 'index', 'pin', 'config', 'state', 'doctor']) {
      assert.match(r.stdout, new RegExp(`^  ${group} `, 'm'))
    }
    assert.equal(r.stderr, '')
  })

  it('--help loads no Parquet, RPC, YAML, CID or process code', async () => {
    const log = join(await makeTempDir('trace'), 'imports.log')
    const r = await runCli(['--help'], {
      nodeArgs: ['--import', TRACE],
      env: { IPFS_KIT_TEST_IMPORT_LOG: log },
    })
    assert.equal(r.code, 0)
    const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
    assert.ok(
      loaded.some((u) => u.endsWith('/cli/main.js')),
      'the trace saw the CLI itself',
    )
    const heavy = loaded.filter((u) =>
      /hyparquet|multiformats|\/yaml\/|\/kubo\/(rpc|process|binary)\.js|node:(http|child_process)$/.test(u),
    )
    assert.deepEqual(heavy, [])
  })

  it('each group has --help naming its subcommands', async () => {
    const r = await runCli(['pin', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /ipfs-kit pin list \[--limit <n>\]/)
    assert.match(r.stdout, /ipfs-kit pin add <cid>/)
    const d = await runCli(['daemon', 'start', '--help'])
    assert.equal(d.code, 0)
    assert.match(d.stdout, /--interval <s>/)
  })

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'])
    assert.equal(r.code, 0)
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    assert.equal(r.stdout.trim(), `ipfs-kit ${pkg.version}`)
  })

  const usageErrors: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['pin', 'frob'], /unknown subcommand 'pin frob'/],
    [['doctor', '--bogus'], /doctor: Unknown option '--bogus'/],
    [['doctor', 'extra'], /doctor: unexpected argument "extra"/],
    [[], /Usage: ipfs-kit <command>/],
  ]
  for (const [args, why] of usageErrors) {
    it(`exits 2 for bad usage: ${JSON.stringify(args)}`, async () => {
      const r = await runCli(args)
      assert.equal(r.code, 2)
      assert.match(r.stdout + r.stderr, why)
    })
  }
})
