// config.yaml, environment and flags: each value with its origin; bad files name key and line.
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { displayValue, loadConfig } from '../src/config/config.js'
import { ConfigError } from '../src/errors.js'
import { makeTempDir } from './helpers/kubo.js'

async function kitWith(yaml: string | null): Promise<string> {
  const dir = await makeTempDir('kit')
  if (yaml !== null) await writeFile(join(dir, 'config.yaml'), yaml)
  return dir
}

describe('loadConfig', () => {
  it('uses defaults when there is no config.yaml', async () => {
    const kit = await kitWith(null)
    const config = await loadConfig({ env: { IPFS_KIT_PATH: kit } })
    assert.equal(config.fileFound, false)
    assert.deepEqual(config.settings['index.interval_s'], { value: 30, origin: 'default' })
    assert.deepEqual(config.settings['kubo.binary'], { value: null, origin: 'default' })
  })

  it('layers file, then environment, then flags, keeping each origin', async () => {
    const kit = await kitWith('kubo:\n  binary: /opt/kubo/ipfs\nindex:\n  interval_s: 10\n')
    const fileOnly = await loadConfig({ env: { IPFS_KIT_PATH: kit } })
    assert.deepEqual(fileOnly.settings['index.interval_s'], {
      value: 10,
      origin: 'file',
      source: `${join(kit, 'config.yaml')}:4`,
    })
    assert.equal(fileOnly.settings['kubo.binary'].origin, 'file')
    const withEnv = await loadConfig({ env: { IPFS_KIT_PATH: kit, IPFS_KIT_INTERVAL: '20' } })
    assert.deepEqual(withEnv.settings['index.interval_s'], {
      value: 20,
      origin: 'env',
      source: 'IPFS_KIT_INTERVAL',
    })
    const withFlag = await loadConfig({
      env: { IPFS_KIT_PATH: kit, IPFS_KIT_INTERVAL: '20' },
      flags: { 'index.interval_s': { value: '5', flag: '--interval' } },
    })
    assert.deepEqual(withFlag.settings['index.interval_s'], {
      value: 5,
      origin: 'flag',
      source: '--interval',
    })
  })

  it('names the unknown key and its line', async () => {
    const kit = await kitWith('kubo:\n  binary: /x\n  bogus_key: 1\n')
    await assert.rejects(
      loadConfig({ env: { IPFS_KIT_PATH: kit } }),
      (err: unknown) =>
        err instanceof ConfigError && /config\.yaml:3: unknown key 'kubo\.bogus_key'/.test(err.message),
    )
  })

  it('names the key, line and value of a wrong type', async () => {
    const kit = await kitWith('index:\n  interval_s: -3\n')
    await assert.rejects(
      loadConfig({ env: { IPFS_KIT_PATH: kit } }),
      /config\.yaml:2: index\.interval_s must be a positive number, got -3/,
    )
    const kit2 = await kitWith('index:\n  interval_s: soon\n')
    await assert.rejects(
      loadConfig({ env: { IPFS_KIT_PATH: kit2 } }),
      /index\.interval_s must be a positive number, got "soon"/,
    )
  })

  it('reports YAML syntax errors with their line', async () => {
    const kit = await kitWith('kubo:\n  binary: [unclosed\n')
    await assert.rejects(loadConfig({ env: { IPFS_KIT_PATH: kit } }), /config\.yaml:\d+: not valid YAML/)
  })

  it('refuses a bad environment value naming the variable', async () => {
    const kit = await kitWith(null)
    await assert.rejects(
      loadConfig({ env: { IPFS_KIT_PATH: kit, IPFS_KIT_INTERVAL: 'x' } }),
      /environment variable IPFS_KIT_INTERVAL: index\.interval_s must be a positive number/,
    )
  })

  it('masks secrets for display', () => {
    assert.equal(displayValue('kubo.auth', 'bearer:s3cret'), 'bearer:***')
    assert.equal(displayValue('kubo.binary', '/usr/bin/ipfs'), '/usr/bin/ipfs')
  })
})
