// The ipfs-kit binary itself: help that lists every command group, exit codes of DESIGN.md, and
// a start path that loads nothing heavy.
import assert from 'node:assert/strict'
import { chmod, readdir, readFile, utimes, writeFile } from 'node:fs/promises'
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
      modules: true,
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

  it('keeps a V8 code cache per command shape, and answers the same from a damaged or unwritable one', async () => {
    const cache = await makeTempDir('code-cache')
    const env = { IPFS_KIT_CACHE: cache }
    const first = await runCli(['config', 'show', '--json'], { env })
    assert.equal(first.code, 0, first.stderr)
    const dir = join(cache, 'v8')
    const files = (await readdir(dir)).sort()
    // One per file of the CLI it loaded: the front door and the commands.
    assert.equal(files.length, 2)
    assert.match(files[0] as string, /-ipfs-kit-\d+-\d+-\d+-configshow--json\.bin$/)
    assert.match(files[1] as string, /-ipfs-kit-cli-\d+-\d+-\d+-configshow--json\.bin$/)
    // Garbage in their place: V8 refuses it, the command answers the same, the caches are rewritten.
    for (const f of files) await writeFile(join(dir, f), 'not a code cache')
    const second = await runCli(['config', 'show', '--json'], { env })
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    for (const f of files)
      assert.notEqual(await readFile(join(dir, f), 'utf8').catch(() => ''), 'not a code cache')
    // A cache folder it cannot write (root can write anywhere: then it is only not refused).
    await chmod(dir, 0o500)
    try {
      const third = await runCli(['config', 'show'], { env })
      assert.equal(third.code, 0, third.stderr)
      assert.equal(third.stderr, '')
    } finally {
      await chmod(dir, 0o700)
    }
    const before = await readdir(dir)
    const off = await runCli(['--version'], { env: { ...env, IPFS_KIT_NO_CODE_CACHE: '1' } })
    assert.equal(off.code, 0)
    assert.deepEqual(await readdir(dir), before, 'IPFS_KIT_NO_CODE_CACHE=1 writes no cache')
    // Caches of another build: removed when a new cache is written, once a day old.
    const [version, arch] = (files[0] as string).split('-')
    const old = join(dir, `${version}-${arch}-1-2-3-pinlist.bin`)
    const recent = join(dir, `${version}-${arch}-4-5-6-pinlist.bin`)
    await writeFile(old, 'old build')
    await writeFile(recent, 'another copy, in use')
    const dayAgo = new Date(Date.now() - 2 * 86_400_000)
    await utimes(old, dayAgo, dayAgo)
    const fourth = await runCli(['daemon', 'status', '--json'], { env })
    assert.ok(fourth.code === 0 || fourth.code === 1, fourth.stderr)
    const after = await readdir(dir)
    assert.ok(!after.includes(`${version}-${arch}-1-2-3-pinlist.bin`), "the old build's cache is removed")
    assert.ok(after.includes(`${version}-${arch}-4-5-6-pinlist.bin`), 'a recent one is kept')
    assert.ok(after.some((f) => f.endsWith('-daemonstatus--json.bin')))
    assert.ok(
      before.every((f) => after.includes(f)),
      "this build's caches are kept",
    )
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
