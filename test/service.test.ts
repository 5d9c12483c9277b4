// `daemon install-service` / `uninstall-service`: a systemd unit written from the real paths in
// use, that systemd's own checker accepts where it is installed, and that runs what `daemon
// start --foreground` runs; a unit ipfs-kit did not write is never replaced or removed.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { UNIT_MARKER } from '../src/manager/service-unit.js'
import { CLI, runCli } from './helpers/cli.js'
import { makeTempDir } from './helpers/kubo.js'

const exec = promisify(execFile)

async function hasSystemdAnalyze(): Promise<boolean> {
  try {
    await exec('systemd-analyze', ['--version'])
    return true
  } catch {
    return false
  }
}

describe('daemon install-service', () => {
  it('writes a user unit from the real paths, which systemd-analyze verify accepts', async (t) => {
    const home = await makeTempDir('xdg')
    const kitPath = join(await makeTempDir('kit'), 'with space %and percent')
    const env = {
      XDG_CONFIG_HOME: home,
      IPFS_KIT_PATH: kitPath,
      IPFS_PATH: '/srv/ipfs repo',
      IPFS_KIT_IPFS_BIN: '/opt/kubo/ipfs',
      IPFS_KIT_KUBO_AUTH: 'bearer:secret-token',
    }
    const r = await runCli(['daemon', 'install-service', '--interval', '60', '--json'], { env })
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { path: string; scope: string; left_out: string[]; next: string[] }
    assert.equal(result.path, join(home, 'systemd', 'user', 'ipfs-kit.service'))
    assert.equal(result.scope, 'user')
    assert.deepEqual(result.left_out, ['IPFS_KIT_KUBO_AUTH'])
    assert.match(r.stderr, /IPFS_KIT_KUBO_AUTH is not written into the unit/)
    assert.ok(result.next.includes('systemctl --user enable --now ipfs-kit'))
    const unit = await readFile(result.path, 'utf8')
    assert.ok(unit.startsWith(UNIT_MARKER))
    assert.equal((await stat(result.path)).mode & 0o777, 0o644)
    assert.ok(
      unit.includes(
        `ExecStart=${process.execPath} --heap-growing-percent=20 ${CLI} daemon start --foreground --interval 60\n`,
      ),
    )
    assert.ok(unit.includes(`Environment="IPFS_KIT_PATH=${kitPath.replace('%', '%%')}"`))
    assert.ok(unit.includes('Environment="IPFS_PATH=/srv/ipfs repo"'))
    assert.ok(unit.includes('Environment="IPFS_KIT_IPFS_BIN=/opt/kubo/ipfs"'))
    assert.doesNotMatch(unit, /secret-token/)
    assert.match(unit, /^KillMode=mixed$/m)
    assert.match(unit, /^WantedBy=default\.target$/m)
    if (!(await hasSystemdAnalyze())) {
      t.skip('systemd-analyze is not installed: the unit was not verified by systemd')
      return
    }
    const verify = await exec('systemd-analyze', ['verify', result.path]).then(
      (o) => ({ ok: true, out: o.stderr }),
      (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? '' }),
    )
    assert.ok(verify.ok, verify.out)
  })

  it('a system unit names the user to run as (unless root), and verify accepts it too', async (t) => {
    const dir = await makeTempDir('units')
    const r = await runCli(
      ['daemon', 'install-service', '--system', '--dir', dir, '--name', 'ipfs-kit-test', '--offline'],
      {
        env: { IPFS_KIT_PATH: await makeTempDir('kit') },
      },
    )
    assert.equal(r.code, 0, r.stderr)
    const path = join(dir, 'ipfs-kit-test.service')
    assert.match(r.stdout, new RegExp(`wrote ${path}`))
    assert.match(r.stdout, /systemctl enable --now ipfs-kit-test/)
    const unit = await readFile(path, 'utf8')
    assert.match(unit, /daemon start --foreground --offline$/m)
    assert.match(unit, /^WantedBy=multi-user\.target$/m)
    const uid = process.getuid?.()
    if (uid === 0) assert.doesNotMatch(unit, /^User=/m)
    else assert.match(unit, /^User=/m)
    if (await hasSystemdAnalyze()) {
      await exec('systemd-analyze', ['verify', path])
    } else t.diagnostic('systemd-analyze is not installed: not verified')
    const un = await runCli([
      'daemon',
      'uninstall-service',
      '--system',
      '--dir',
      dir,
      '--name',
      'ipfs-kit-test',
      '--json',
    ])
    assert.equal(un.code, 0, un.stderr)
    assert.equal((JSON.parse(un.stdout) as { removed: boolean }).removed, true)
    await assert.rejects(stat(path))
    const again = await runCli([
      'daemon',
      'uninstall-service',
      '--system',
      '--dir',
      dir,
      '--name',
      'ipfs-kit-test',
    ])
    assert.equal(again.code, 0)
    assert.match(again.stdout, /nothing to remove/)
  })

  it('never replaces or removes a unit it did not write; --force replaces it', async () => {
    const dir = await makeTempDir('units')
    const path = join(dir, 'ipfs-kit.service')
    await writeFile(path, '[Service]\nExecStart=/bin/true\n')
    const r = await runCli(['daemon', 'install-service', '--dir', dir])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /exists and was not written by ipfs-kit; it is left alone/)
    const un = await runCli(['daemon', 'uninstall-service', '--dir', dir])
    assert.equal(un.code, 1)
    assert.match(un.stderr, /was not written by ipfs-kit; it is left alone/)
    assert.equal(await readFile(path, 'utf8'), '[Service]\nExecStart=/bin/true\n')
    const forced = await runCli(['daemon', 'install-service', '--dir', dir, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stdout, /^replaced /)
    assert.ok((await readFile(path, 'utf8')).startsWith(UNIT_MARKER))
  })

  it('refuses a bad unit name or interval with exit 2, writing nothing', async () => {
    const dir = await makeTempDir('units')
    for (const args of [
      ['--name', 'ipfs-kit.service'],
      ['--name', 'has space'],
      ['--name', ''],
      ['--interval', '-3'],
      ['--dir', ''],
      ['--bogus'],
    ]) {
      const r = await runCli(['daemon', 'install-service', '--dir', dir, ...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    }
    assert.deepEqual(await import('node:fs/promises').then((fs) => fs.readdir(dir)), [])
  })
})
