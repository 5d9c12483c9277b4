// Crash during write: a real node with 100,000 pins (IPFS_KIT_CRASH_PINS), and the manager
// killed with SIGKILL 30 times (IPFS_KIT_CRASH_KILLS) at random moments while it writes the
// index. After each kill every index file opens and passes full validation, pins.parquet holds
// either the pinset before the change or after it (nothing in between), and after the next
// `daemon start` no temporary file is left anywhere.
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { cpSync, watch } from 'node:fs'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runIpfs } from '../src/kubo/process.js'
import { INDEX_FILES, type IndexFileKind, indexFilePath } from '../src/store/layout.js'
import { checkIndexFile } from '../src/store/reader.js'
import { TEMP_PREFIX } from '../src/store/writer.js'
import { type DaemonEnv, daemonEnv, isAlive, waitFor } from '../test/helpers/daemon.js'
import { kuboBin, makeTempDir } from '../test/helpers/kubo.js'

const PINS = Number(process.env.IPFS_KIT_CRASH_PINS ?? 100_000)
const KILLS = Number(process.env.IPFS_KIT_CRASH_KILLS ?? 30)

async function benchRepo(pins: number): Promise<string> {
  const bin = await kuboBin()
  const { makeRepo } = (await import(new URL('../../bench/make-repo.mjs', import.meta.url).href)) as {
    makeRepo: (o: { pins: number; dir: string; bin: string; log: (m: string) => void }) => Promise<string>
  }
  const cache = process.env.IPFS_KIT_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'ipfs-kit')
  return makeRepo({ pins, dir: join(cache, 'bench'), bin, log: (m) => process.stdout.write(`# ${m}\n`) })
}

async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.name.startsWith(TEMP_PREFIX)) found.push(join(entry.parentPath ?? '', entry.name))
  }
  return found
}

let d: DaemonEnv | undefined
after(async () => {
  await d?.cli(['daemon', 'stop'])
})

describe(`crash during write: ${KILLS} SIGKILLs at ${PINS} pins`, () => {
  it('every index file stays whole and valid, old or new, and no temporary file survives a start', async () => {
    const ipfsPath = join(await makeTempDir('crash'), 'ipfs')
    cpSync(await benchRepo(PINS), ipfsPath, { recursive: true })
    d = await daemonEnv({ ipfsPath })
    const env = d
    const start = async () => {
      const r = await env.cli(['daemon', 'start', '--interval', '3600'], 600_000)
      assert.equal(r.code, 0, r.stderr)
      return (await env.status()).manager.pid as number
    }
    let manager = await start()
    const peerId = (await env.status()).kubo.peer_id as string
    const pinsDir = join(env.kitPath, 'pin_metadata', 'parquet_storage')
    const blocks = await makeTempDir('crash-blocks')
    let count = (await checkIndexFile(indexFilePath(env.kitPath, 'pins'), 'pins', peerId)).status
    assert.equal(count, 'valid')
    let pinCount = PINS
    let midWrite = 0
    const kinds = Object.keys(INDEX_FILES) as IndexFileKind[]

    for (let k = 0; k < KILLS; k++) {
      // Change the pinset (one more pin), so the next cycle rewrites pins.parquet.
      const file = join(blocks, `b${k}`)
      await writeFile(file, `crash-during-write block ${k} ${Date.now()}`)
      await runIpfs(
        env.env.IPFS_KIT_IPFS_BIN as string,
        ['block', 'put', '--pin=true', '--cid-codec=raw', file],
        {
          ipfsPath,
          timeoutMs: 60_000,
        },
      )
      // Kill at a random moment of the write: 0 to 60 ms after its temporary file appears.
      const delay = randomInt(0, 60)
      const sawTemp = new Promise<void>((resolve) => {
        const watcher = watch(pinsDir, (_event, name) => {
          if (name?.startsWith(`${TEMP_PREFIX}pins.parquet`)) {
            watcher.close()
            resolve()
          }
        })
        setTimeout(() => {
          watcher.close()
          resolve()
        }, 120_000)
      })
      const refresh = env.cli(['index', 'refresh'], 600_000).catch(() => null)
      await sawTemp
      await new Promise((r) => setTimeout(r, delay))
      process.kill(manager, 'SIGKILL')
      await waitFor('the manager to die', async () => !isAlive(manager), 10_000)
      await refresh
      if ((await tempFiles(env.kitPath)).length > 0) midWrite++

      // Every file is valid; pins.parquet is the pinset before or after the change.
      for (const kind of kinds) {
        const check = await checkIndexFile(indexFilePath(env.kitPath, kind), kind, peerId)
        assert.equal(check.status, 'valid', `${kind} after kill ${k}: ${JSON.stringify(check)}`)
        if (kind === 'pins' && check.status === 'valid') {
          assert.ok(
            [pinCount, pinCount + 1].includes(check.header.rowCount),
            `pins.parquet has ${check.header.rowCount} rows, expected ${pinCount} or ${pinCount + 1}`,
          )
        }
      }
      pinCount++
      manager = await start()
      assert.deepEqual(await tempFiles(env.kitPath), [], `temporary files after start ${k}`)
    }
    count = (await checkIndexFile(indexFilePath(env.kitPath, 'pins'), 'pins', peerId)).status
    process.stdout.write(
      `# crash: ${KILLS} kills, ${midWrite} left a temporary file behind (cut mid-write)\n`,
    )
    assert.ok(midWrite >= KILLS / 3, `only ${midWrite} of ${KILLS} kills landed mid-write`)
  })
})
