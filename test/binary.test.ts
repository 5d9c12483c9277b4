// Which Kubo binary runs, in DESIGN.md's order, and what the user is told when none works.
import assert from 'node:assert/strict'
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { cachedKuboBinaryPath } from '../src/config/paths.js'
import { KuboBinaryNotFoundError } from '../src/errors.js'
import { resolveKuboBinary } from '../src/kubo/binary.js'
import { kuboBin, makeTempDir } from './helpers/kubo.js'

let realBin: string
let realVersion: string
before(async () => {
  realBin = await kuboBin()
  realVersion = (await resolveKuboBinary({ env: { IPFS_KIT_IPFS_BIN: realBin } })).version
})

/** A folder holding an `ipfs` that is a link to the real Kubo. */
async function dirWithIpfs(): Promise<string> {
  const dir = await makeTempDir('bin')
  await symlink(realBin, join(dir, 'ipfs'))
  return dir
}

describe('resolveKuboBinary', () => {
  it('takes IPFS_KIT_IPFS_BIN first and reports its version', async () => {
    const env = {
      IPFS_KIT_IPFS_BIN: realBin,
      PATH: await dirWithIpfs(),
      IPFS_KIT_CACHE: await makeTempDir('cache'),
    }
    const kubo = await resolveKuboBinary({ env })
    assert.equal(kubo.source, 'env')
    assert.equal(kubo.path, realBin)
    assert.match(kubo.version, /^\d+\.\d+\.\d+/)
  })

  it('takes config kubo.binary when the environment names none', async () => {
    const kubo = await resolveKuboBinary({
      env: { PATH: '' },
      configured: { value: realBin, origin: 'file', source: '/x/config.yaml:2' },
    })
    assert.equal(kubo.source, 'config')
  })

  it('refuses an explicit binary that does not work instead of running another one', async () => {
    const dir = await makeTempDir('bin')
    const fake = join(dir, 'ipfs')
    await writeFile(fake, '#!/bin/sh\necho "this is not kubo" >&2\nexit 3\n')
    await chmod(fake, 0o755)
    await assert.rejects(
      resolveKuboBinary({ env: { IPFS_KIT_IPFS_BIN: fake, PATH: await dirWithIpfs() } }),
      (err: unknown) => {
        assert.ok(err instanceof KuboBinaryNotFoundError)
        assert.match(err.message, /this is not kubo/)
        assert.match(err.hint ?? '', /IPFS_KIT_IPFS_BIN/)
        return true
      },
    )
    await assert.rejects(
      resolveKuboBinary({
        env: { PATH: '' },
        configured: { value: join(dir, 'nope'), origin: 'file', source: 'c.yaml:1' },
      }),
      /does not work: no such file/,
    )
  })

  it('takes ipfs on PATH before the cached build', async () => {
    const cache = await makeTempDir('cache')
    await mkdir(join(cache, 'kubo-v0.43.1'), { recursive: true })
    await symlink(realBin, join(cache, 'kubo-v0.43.1', 'ipfs'))
    const pathDir = await dirWithIpfs()
    const kubo = await resolveKuboBinary({ env: { PATH: pathDir, IPFS_KIT_CACHE: cache } })
    assert.equal(kubo.source, 'path')
    assert.equal(kubo.path, join(pathDir, 'ipfs'))
    assert.equal(kubo.version, realVersion)
  })

  it('falls back to the cached build, and explains every miss when there is none', async () => {
    const cache = await makeTempDir('cache')
    await assert.rejects(resolveKuboBinary({ env: { PATH: '', IPFS_KIT_CACHE: cache } }), (err: unknown) => {
      assert.ok(err instanceof KuboBinaryNotFoundError)
      assert.match(err.message, /path: -: no ipfs on PATH/)
      assert.match(err.message, /cache: .*kubo-v0\.43\.1\/ipfs: not built yet/)
      assert.match(err.hint ?? '', /npm run kubo/)
      return true
    })
    const env = { PATH: '', IPFS_KIT_CACHE: cache }
    await mkdir(join(cache, 'kubo-v0.43.1'), { recursive: true })
    await symlink(realBin, cachedKuboBinaryPath(env))
    const kubo = await resolveKuboBinary({ env })
    assert.equal(kubo.source, 'cache')
    assert.equal(kubo.tried.find((t) => t.source === 'path')?.problem, 'no ipfs on PATH')
  })
})
