// Faults a careful reading found, each tested on real processes and a real Kubo: a long
// IPFS_KIT_PATH (the control socket's path limit), many starts at once (one manager, always),
// the record of the Kubo a manager started (checked by pid and start time before any signal),
// pin counts of a failed cycle (null, not stale), and logs that grow forever (rotated).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { IndexLoop } from '../src/indexer/loop.js'
import { pinCollector } from '../src/indexer/pins.js'
import { pinCountsByCycle, storageCollector } from '../src/indexer/state.js'
import { managerFiles } from '../src/manager/files.js'
import { acquireLock } from '../src/manager/lock.js'
import { createLogger } from '../src/manager/log.js'
import { isProcessAlive } from '../src/manager/process-info.js'
import { indexFilePath } from '../src/store/layout.js'
import { readStateFile } from '../src/store/state.js'
import { CLI } from './helpers/cli.js'
import { daemonEnv, isAlive, managerLog, waitFor } from './helpers/daemon.js'
import { makeTempDir, startKubo } from './helpers/kubo.js'

/** A folder whose path is exactly `length` bytes long. */
async function folderOfLength(length: number): Promise<string> {
  const base = await makeTempDir('long')
  const rest = length - base.length - 1
  assert.ok(rest > 0)
  return join(base, 'k'.repeat(rest))
}

/** Every file and folder under dir, relative to it. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[])
  return entries.map(String).sort()
}

describe('hardening', () => {
  for (const length of [96, 240]) {
    it(`runs with a ${length}-byte IPFS_KIT_PATH: the socket lives in a short private folder, and nothing stray is left`, async () => {
      const kitPath = await folderOfLength(length)
      const d = await daemonEnv({ extra: { IPFS_KIT_PATH: kitPath } })
      const files = managerFiles(kitPath)
      assert.ok(files.shortSocketDir, 'run/control.sock would be too long for a socket address')
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 0, start.stderr)
      const st = await d.status()
      assert.equal(st.manager.running, true)
      const dir = await stat(files.shortSocketDir as string)
      assert.equal(dir.mode & 0o777, 0o700)
      assert.equal((await stat(files.socket)).isSocket(), true)
      assert.equal(((await stat(files.socket)).mode & 0o777).toString(8), '600')
      const list = await d.cli(['pin', 'list', '--json'])
      assert.equal(list.code, 0, list.stderr)
      assert.equal((JSON.parse(list.stdout) as { source: string }).source, 'index')
      assert.deepEqual(await tree(join(kitPath, 'run')), ['http.token', 'kubo.json', 'manager.lock'])
      const stop = await d.cli(['daemon', 'stop'])
      assert.equal(stop.code, 0, stop.stderr)
      // The HTTP token is kept across restarts; nothing else stays.
      assert.deepEqual(await tree(join(kitPath, 'run')), ['http.token'], 'no stray socket file')
      await assert.rejects(stat(files.socket), 'the socket is removed on stop')
      assert.deepEqual(
        (await tree(kitPath)).filter((f) => /sock|control/.test(f)),
        [],
      )
    })
  }

  it('refuses a short socket folder that another user could enter, and starts nothing', async () => {
    const kitPath = await folderOfLength(120)
    const files = managerFiles(kitPath)
    const dir = files.shortSocketDir as string
    // Someone made the folder open to all (or it is not ours): ipfs-kit must not put its socket there.
    const existed = await stat(dir).then(
      () => true,
      () => false,
    )
    if (!existed) await mkdir(dir, { mode: 0o700 })
    await chmod(dir, 0o777)
    try {
      const d = await daemonEnv({ extra: { IPFS_KIT_PATH: kitPath } })
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 1)
      assert.match(start.stderr, /can be entered by other users \(mode 777\); ipfs-kit will not use it/)
      const status = await d.cli(['daemon', 'status', '--json'])
      assert.equal(status.code, 1)
      assert.match(status.stderr, /will not use it/)
      assert.deepEqual(await tree(join(kitPath, 'run')), [], 'no lock, no socket')
    } finally {
      await chmod(dir, 0o700)
    }
  })

  it('ten starts at once, three times: exactly one manager runs, every other start exits 1 naming it', async () => {
    const d = await daemonEnv()
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 10 }, () => d.cli(['daemon', 'start'], 300_000)))
      const ok = results.filter((r) => r.code === 0)
      assert.equal(ok.length, 1, `round ${round}: ${results.map((r) => `${r.code} ${r.stderr}`).join('\n')}`)
      const st = await d.status()
      const pid = st.manager.pid as number
      assert.ok(isAlive(pid))
      for (const r of results.filter((r) => r.code !== 0)) {
        assert.equal(r.code, 1)
        assert.match(r.stderr, new RegExp(`already running \\(pid ${pid}\\)`))
      }
      // Exactly one manager process for this folder.
      const managers: number[] = []
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue
        const [cmdline, environ] = await Promise.all([
          readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
          readFile(`/proc/${entry}/environ`, 'utf8').catch(() => ''),
        ])
        if (
          cmdline.includes('daemon\0start\0--foreground') &&
          environ.split('\0').includes(`IPFS_KIT_PATH=${d.kitPath}`) &&
          isProcessAlive(Number(entry))
        )
          managers.push(Number(entry))
      }
      assert.deepEqual(managers, [pid])
      const stop = await d.cli(['daemon', 'stop'])
      assert.equal(stop.code, 0, stop.stderr)
      assert.deepEqual(await tree(join(d.kitPath, 'run')), ['http.token'])
    }
  })

  it('another process never sees the lock half-written (a racing starter would judge it stale)', async () => {
    const path = join(await makeTempDir('lock'), 'manager.lock')
    // A second process reads the lock path as fast as it can while this one takes and releases it.
    const watcher = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let seen = 0, partial = 0; const end = Date.now() + 3000;
         while (Date.now() < end) { let t; try { t = fs.readFileSync(${JSON.stringify(path)}, 'utf8') } catch { continue }
           seen++; try { if (typeof JSON.parse(t).pid !== 'number') partial++ } catch { partial++ } }
         console.log(JSON.stringify({ seen, partial }))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    watcher.stdout.on('data', (c) => {
      out += c
    })
    const closed = new Promise((r) => watcher.on('close', r))
    let taken = 0
    const end = Date.now() + 2500
    while (Date.now() < end) {
      const lock = await acquireLock(path)
      await lock.release()
      taken++
    }
    await closed
    const { seen, partial } = JSON.parse(out) as { seen: number; partial: number }
    assert.ok(taken > 100 && seen > 100, `the lock was taken ${taken} times and seen ${seen} times`)
    assert.equal(partial, 0, `${partial} of ${seen} reads found a lock that was not whole`)
  })

  it('a takeover of a dead manager’s lock by many starts at once still leaves exactly one', async () => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const first = await d.status()
    process.kill(first.manager.pid as number, 'SIGKILL')
    await waitFor('the manager to die', async () => !isAlive(first.manager.pid), 5_000)
    const results = await Promise.all(Array.from({ length: 6 }, () => d.cli(['daemon', 'start'], 300_000)))
    assert.equal(results.filter((r) => r.code === 0).length, 1, results.map((r) => r.stderr).join('\n'))
    const st = await d.status()
    assert.equal(st.kubo.pid, first.kubo.pid, 'its Kubo is adopted')
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    assert.equal(isAlive(first.kubo.pid), false)
  })

  it('never signals a process the Kubo record does not name exactly (pid and start time)', async () => {
    const d = await daemonEnv()
    const files = managerFiles(d.kitPath)
    await mkdir(files.runDir, { recursive: true, mode: 0o700 })
    // A live process with the recorded pid but another start time: a pid reused since.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' })
    try {
      const pid = bystander.pid as number
      await writeFile(
        files.kuboRecord,
        JSON.stringify({ pid, start_time: '1', ipfs_path: d.ipfsPath, started_at: new Date().toISOString() }),
      )
      const stop = await d.cli(['daemon', 'stop'])
      assert.equal(stop.code, 0, stop.stderr)
      assert.equal(isAlive(pid), true, 'the bystander lives')
      await assert.rejects(stat(files.kuboRecord), 'the stale record is removed')
      // A record cut short (as an in-place write interrupted by a crash left it) is no record.
      await writeFile(files.kuboRecord, `{"pid":${pid},"start_ti`)
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 0, start.stderr)
      const st = await d.status()
      assert.equal(st.kubo.mode, 'started')
      assert.notEqual(st.kubo.pid, pid)
      const record = JSON.parse(await readFile(files.kuboRecord, 'utf8')) as { pid: number }
      assert.equal(record.pid, st.kubo.pid, 'the new record is whole')
      assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
      assert.equal(isAlive(pid), true)
    } finally {
      bystander.kill()
    }
  })

  it('a cycle whose pin collector fails writes null pin counts with the reason, not the last cycle’s', async () => {
    const kubo = await startKubo()
    try {
      const kitPath = await makeTempDir('kit')
      const counts = pinCountsByCycle(() => loop.status().collectors.pins?.last_error ?? null)
      const real = pinCollector({
        kitPath,
        writer: 'ipfs-kit test',
        onCounts: (c, cycle) => counts.record(c, cycle),
      })
      let failNext = false
      const pins = {
        name: 'pins',
        run: (ctx: Parameters<typeof real.run>[0]) => {
          if (failNext) throw new Error('pin/ls failed: the test broke it')
          return real.run(ctx)
        },
      }
      const storage = storageCollector({
        kitPath,
        ipfsPath: kubo.ipfsPath,
        writer: 'ipfs-kit test',
        offline: true,
        managerStartedAt: Date.now(),
        kuboPid: () => null,
        pinCounts: (cycle) => counts.forCycle(cycle),
        pinChanges: () => ({ adds: 0, removes: 0 }),
      })
      const loop: IndexLoop = new IndexLoop({
        collectors: [pins, storage],
        intervalS: 3600,
        retryAfterMs: 3_600_000,
        log: createLogger({}),
        context: () => ({ rpc: kubo.rpc, peerId: kubo.peerId, kuboVersion: null }),
      })
      loop.start()
      await loop.firstFullCycle()
      const path = indexFilePath(kitPath, 'storage')
      const good = await readStateFile(path, 'storage', kubo.peerId)
      assert.equal(typeof good.rows[0]?.pins_recursive, 'number')
      failNext = true
      const failed = await loop.refresh()
      assert.equal(failed.outcomes.pins?.ok, false)
      assert.equal(failed.outcomes.storage?.ok, true)
      const after = await readStateFile(path, 'storage', kubo.peerId)
      assert.equal(after.rows[0]?.pins_recursive, null)
      assert.equal(after.rows[0]?.pins_direct, null)
      assert.match(
        after.nullReasons.pins_recursive ?? '',
        /pin collector failed in this cycle: pin\/ls failed/,
      )
      assert.ok(typeof after.rows[0]?.repo_size_bytes === 'number', 'the rest of the row is this cycle’s')
      await loop.close()
    } finally {
      await kubo.stop()
    }
  })

  it('rotates manager.log by size, keeps the number of old files asked for, and logs debug only when asked', async () => {
    const dir = await makeTempDir('logs')
    const file = join(dir, 'manager.log')
    const log = createLogger({ file, rotation: { maxBytes: 4096, keep: 2 } })
    for (let i = 0; i < 200; i++) log.info('a line', { i })
    log.debug('not written at level info')
    const names = (await readdir(dir)).sort()
    assert.deepEqual(names, ['manager.log', 'manager.log.1', 'manager.log.2'])
    for (const n of names) assert.ok((await stat(join(dir, n))).size <= 4096, `${n} is within the cap`)
    const last = (await readFile(file, 'utf8')).trim().split('\n').at(-1) as string
    assert.equal((JSON.parse(last) as { i: number }).i, 199, 'the newest line is in manager.log')
    assert.doesNotMatch(await readFile(file, 'utf8'), /not written/)
    const debug = createLogger({ file: join(dir, 'debug.log'), level: 'debug' })
    debug.debug('written at level debug')
    assert.match(await readFile(join(dir, 'debug.log'), 'utf8'), /"level":"debug"/)
  })

  it('daemon logs -f follows manager.log across a rotation', async () => {
    const kitPath = await makeTempDir('kit')
    const files = managerFiles(kitPath)
    await mkdir(files.logDir, { recursive: true })
    const log = createLogger({ file: files.managerLog, rotation: { maxBytes: 2048, keep: 3 } })
    log.info('before following')
    const follow = spawn(process.execPath, [CLI, 'daemon', 'logs', '-f', '-n', '1'], {
      env: { ...process.env, IPFS_KIT_PATH: kitPath },
    })
    let out = ''
    follow.stdout.on('data', (c) => {
      out += c
    })
    try {
      await waitFor('logs -f to start', async () => out.includes('before following'), 30_000)
      for (let i = 0; i < 60; i++) log.info('line', { n: i })
      await waitFor('every line, across the rotations', async () => out.includes('n=59'), 30_000)
      for (let i = 0; i < 60; i++) assert.ok(out.includes(`n=${i}\n`), `line ${i} was followed`)
      assert.ok((await readdir(files.logDir)).includes('manager.log.1'), 'it did rotate')
    } finally {
      follow.kill('SIGINT')
    }
  })

  it('rotates kubo.log in place while Kubo runs, and Kubo goes on writing to it', async () => {
    const d = await daemonEnv({ extra: { IPFS_KIT_LOG_MAX_BYTES: '100', IPFS_KIT_HEALTH_INTERVAL: '1' } })
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const files = managerFiles(d.kitPath)
    await waitFor(
      'kubo.log to be rotated',
      async () => (await readdir(files.logDir)).includes('kubo.log.1'),
      30_000,
    )
    assert.match(await readFile(`${files.kuboLog}.1`, 'utf8'), /Daemon is ready/)
    assert.match(await managerLog(d), /rotated kubo\.log/)
    const st = await d.status()
    assert.equal(st.kubo.healthy, true)
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    await rm(d.kitPath, { recursive: true, force: true })
  })
})
