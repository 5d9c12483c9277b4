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
import { TEMP_PREFIX } from '../src/store/atomic.js'
import { listDayLogParts, readDayLogPart } from '../src/store/day-log.js'
import {
  contentPath,
  DAY_LOG_KINDS,
  INDEX_FILES,
  type IndexFileKind,
  indexFilePath,
  PIN_SUBSETS,
  pinSubsetPath,
} from '../src/store/layout.js'
import { checkIndexFile } from '../src/store/reader.js'
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
    const first = await checkIndexFile(indexFilePath(env.kitPath, 'pins'), 'pins', peerId)
    // The bench repository's pins plus whatever `ipfs init` pinned.
    let pinCount = first.status === 'valid' ? first.header.rowCount : Number.NaN
    assert.ok(pinCount >= PINS)
    const t = () => `${((performance.now() - began) / 1000).toFixed(1)} s`
    const began = performance.now()
    // How long one rewriting cycle takes here, to spread the odd kills over it.
    const timed = performance.now()
    await writeFile(join(blocks, 'first'), `crash-during-write first block ${Date.now()}`)
    await runIpfs(
      env.env.IPFS_KIT_IPFS_BIN as string,
      ['block', 'put', '--pin=true', join(blocks, 'first')],
      {
        ipfsPath,
        timeoutMs: 60_000,
      },
    )
    assert.equal((await env.cli(['index', 'refresh'], 600_000)).code, 0)
    pinCount++
    const cycleMs = Math.round(performance.now() - timed)
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
      // Even kills: a random moment inside the file write itself (its temporary file exists for
      // a few milliseconds). Odd kills: a random moment of the whole cycle (stream, sort, encode,
      // write, rename).
      const inWrite = k % 2 === 0
      const sawTemp = new Promise<void>((resolve) => {
        if (!inWrite) return resolve()
        const done = () => {
          clearTimeout(timer)
          watcher.close()
          resolve()
        }
        const watcher = watch(pinsDir, (_event, name) => {
          if (name?.startsWith(`${TEMP_PREFIX}pins.parquet`)) done()
        })
        const timer = setTimeout(done, 120_000)
      })
      const refresh = env.cli(['index', 'refresh'], 600_000).catch(() => null)
      await sawTemp
      await new Promise((r) => setTimeout(r, inWrite ? randomInt(0, 5) : randomInt(0, cycleMs)))
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
      // content.parquet: not written yet, or whole.
      const content = await checkIndexFile(contentPath(env.kitPath), 'content', peerId)
      assert.ok(content.status !== 'invalid', `content after kill ${k}: ${JSON.stringify(content)}`)
      // The pin subsets (named, direct and recent pins): not written, or whole.
      for (const kind of PIN_SUBSETS) {
        const subset = await checkIndexFile(pinSubsetPath(env.kitPath, kind), kind, peerId)
        assert.ok(subset.status !== 'invalid', `${kind} after kill ${k}: ${JSON.stringify(subset)}`)
      }
      // Every part of every day log (history, pin events, peer sessions): whole.
      for (const kind of DAY_LOG_KINDS)
        for (const part of await listDayLogParts(env.kitPath, kind))
          await readDayLogPart(part, kind, peerId).catch((err: Error) =>
            assert.fail(`${kind} ${part.path} after kill ${k}: ${err.message}`),
          )
      pinCount++
      if (process.env.IPFS_KIT_CRASH_TRACE) process.stdout.write(`# ${k}: checked at ${t()}\n`)
      manager = await start()
      if (process.env.IPFS_KIT_CRASH_TRACE) process.stdout.write(`# ${k}: restarted at ${t()}\n`)
      assert.deepEqual(await tempFiles(env.kitPath), [], `temporary files after start ${k}`)
    }
    process.stdout.write(
      `# crash: ${KILLS} kills (half inside the file write, half anywhere in a ${cycleMs} ms cycle); ${midWrite} cut a file mid-write (temporary file left behind)\n`,
    )
    assert.ok(midWrite >= KILLS / 6, `only ${midWrite} of ${KILLS} kills landed mid-write`)
  })
})
