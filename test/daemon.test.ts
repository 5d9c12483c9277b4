// The daemon manager end to end, with real Kubo and real processes: start on an empty repo,
// attach to a running Kubo, refuse a second manager, restart a killed Kubo, pause and resume
// indexing, stop cleanly, and recover from a manager killed with SIGKILL.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { spawnDaemon } from '../src/kubo/process.js'
import { repoLockHolder } from '../src/kubo/repo.js'
import { indexFilePath } from '../src/store/layout.js'
import { checkIndexFile } from '../src/store/reader.js'
import { CLI } from './helpers/cli.js'
import { daemonEnv, isAlive, managerLog, waitFor } from './helpers/daemon.js'
import { initTestRepo, makeTempDir, startKubo } from './helpers/kubo.js'

async function pinsInIndex(kitPath: string, peerId: string): Promise<number | null> {
  const check = await checkIndexFile(indexFilePath(kitPath, 'pins'), 'pins', peerId)
  return check.status === 'valid' ? check.header.rowCount : null
}

describe('ipfs-kit daemon', () => {
  it('starts on an empty repository: initialises it, starts Kubo, writes the first index, refuses a second start, stops cleanly', async () => {
    const d = await daemonEnv()
    const start = await d.cli(['daemon', 'start', '--interval', '30'])
    assert.equal(start.code, 0, start.stderr)
    const st = await d.status()
    assert.equal(st.manager.running, true)
    assert.equal(st.manager.ready, true)
    // How long its event loop was held up since the control socket listens (perf_hooks' histogram).
    const { event_loop_delay_max_ms: max, event_loop_delay_p99_ms: p99 } = st.manager
    assert.ok(typeof max === 'number' && max >= 0, `event_loop_delay_max_ms ${max}`)
    assert.ok(typeof p99 === 'number' && p99 >= 0 && p99 <= max, `event_loop_delay_p99_ms ${p99}`)
    assert.equal(st.kubo.mode, 'started')
    assert.equal(st.kubo.healthy, true)
    assert.ok(st.kubo.peer_id)
    assert.match(start.stdout, new RegExp(`peer ID: +${st.kubo.peer_id}`))
    assert.match(start.stdout, /RPC API: +\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    assert.match(start.stdout, new RegExp(`index: +${d.kitPath}`))
    assert.match(await managerLog(d), /initialised the Kubo repository/)
    // Ready means the first index is already on disk.
    assert.equal(typeof (await pinsInIndex(d.kitPath, st.kubo.peer_id as string)), 'number')

    const second = await d.cli(['daemon', 'start'])
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`already running \\(pid ${st.manager.pid}\\)`))

    const stop = await d.cli(['daemon', 'stop'])
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(isAlive(st.manager.pid), false, 'manager process is gone')
    assert.equal(isAlive(st.kubo.pid), false, 'the Kubo it started is gone')
    // The HTTP token is kept (a pinning service configured in Kubo keeps working across restarts).
    assert.deepEqual(await readdir(join(d.kitPath, 'run')), ['http.token'], 'no lock, socket or record left')
    const after = await d.cli(['daemon', 'status', '--json'])
    assert.equal(after.code, 1)
    assert.equal((JSON.parse(after.stdout) as { manager: { running: boolean } }).manager.running, false)
  })

  it('attaches to a Kubo that already runs (with API credentials), and leaves it running on stop', async () => {
    const kubo = await startKubo({
      config: [
        ['API.Authorizations', { kit: { AuthSecret: 'bearer:attach-s3cret', AllowedPaths: ['/api/v0'] } }],
      ],
    })
    try {
      const d = await daemonEnv({
        ipfsPath: kubo.ipfsPath,
        extra: { IPFS_KIT_KUBO_AUTH: 'bearer:attach-s3cret' },
      })
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 0, start.stderr)
      const st = await d.status()
      assert.equal(st.kubo.mode, 'attached')
      assert.equal(st.kubo.peer_id, kubo.peerId)
      assert.equal(st.kubo.pid, kubo.daemon.child.pid)
      const stop = await d.cli(['daemon', 'stop'])
      assert.equal(stop.code, 0)
      assert.equal((await kubo.rpc.id()).id, kubo.peerId, 'the attached Kubo still answers')
      assert.doesNotMatch(await managerLog(d), /attach-s3cret/, 'the API token is never logged')
    } finally {
      await kubo.stop()
    }
  })

  it('restarts a Kubo killed with SIGKILL within 15 s, and status shows the restart', async () => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const before = await d.status()
    assert.ok(before.kubo.pid)
    process.kill(before.kubo.pid, 'SIGKILL')
    const after = await waitFor(
      'Kubo to be back',
      async () => {
        const st = await d.status()
        return st.kubo.healthy && st.kubo.restarts === 1 && st.kubo.pid !== before.kubo.pid ? st : null
      },
      15_000,
    )
    assert.equal(after.kubo.last_exit?.reason, 'killed by SIGKILL')
    assert.equal(after.kubo.peer_id, before.kubo.peer_id)
    const text = await d.cli(['daemon', 'status'])
    assert.match(text.stdout, /restarts: 1, last exit: killed by SIGKILL/)
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    assert.equal(isAlive(after.kubo.pid), false)
  })

  it('backs off when restarts keep failing, gives up, and says why in status', async () => {
    // A fixed API port (the test profile picks a new one at each start), free right now.
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as { port: number }).port
    await new Promise((r) => probe.close(r))
    const { ipfsPath } = await initTestRepo({ config: [['Addresses.API', `/ip4/127.0.0.1/tcp/${port}`]] })
    const d = await daemonEnv({ ipfsPath })
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const before = await d.status()
    process.kill(before.kubo.pid as number, 'SIGKILL')
    // Take Kubo's API port before the first restart (1 s later): every restart now fails fast.
    const blocker = createServer()
    await waitFor(
      'the API port to be free',
      () =>
        new Promise<boolean>((resolve) => {
          blocker.once('error', () => resolve(false))
          blocker.listen(port, '127.0.0.1', () => resolve(true))
        }),
      5_000,
    )
    try {
      // Backoff 1 + 2 + 4 + 8 + 16 s, then the sixth fast failure gives up.
      const st = await waitFor(
        'the manager to give up',
        async () => {
          const s = (await d.status()) as unknown as {
            kubo: { gave_up: boolean; gave_up_reason: string | null }
          }
          return s.kubo.gave_up ? s : null
        },
        60_000,
      )
      assert.match(st.kubo.gave_up_reason ?? '', /failed 6 times in a row/)
      assert.match(st.kubo.gave_up_reason ?? '', /address already in use/)
      const text = await d.cli(['daemon', 'status'])
      assert.match(text.stdout, /gave up restarting Kubo/)
      const log = await managerLog(d)
      for (const ms of [1000, 2000, 4000, 8000, 16000])
        assert.match(log, new RegExp(`restarting Kubo.*"in_ms":${ms}\\b`))
    } finally {
      blocker.close()
    }
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
  })

  it('a frozen Kubo (SIGSTOP): status shows it unhealthy, pin list still answers from the index, and it is restarted after three failed health checks', async () => {
    const d = await daemonEnv({ extra: { IPFS_KIT_HEALTH_INTERVAL: '1' } })
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const before = await d.status()
    process.kill(before.kubo.pid as number, 'SIGSTOP')
    const unhealthy = await waitFor(
      'status to show Kubo unhealthy',
      async () => {
        const st = await d.status()
        return st.kubo.healthy ? null : st
      },
      10_000,
    )
    assert.ok(
      unhealthy.problems.some((p) => /Kubo is not healthy/.test(p)),
      JSON.stringify(unhealthy.problems),
    )
    // While Kubo is frozen, pin list answers from the index at once, without asking Kubo.
    const asked = Date.now()
    const listed = await d.cli(['pin', 'list', '--json', '--limit', '0'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.equal((JSON.parse(listed.stdout) as { source: string }).source, 'index')
    assert.ok(Date.now() - asked < 5_000, `pin list took ${Date.now() - asked} ms`)
    const after = await waitFor(
      'a new Kubo',
      async () => {
        const st = await d.status()
        return st.kubo.healthy && st.kubo.pid !== before.kubo.pid ? st : null
      },
      30_000,
    )
    assert.equal(after.kubo.restarts, 1)
    assert.equal(after.kubo.last_exit?.reason, 'killed by SIGKILL')
    assert.match(await managerLog(d), /Kubo stopped answering; killing it to restart it/)
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
  })

  it('SIGTERM to the manager stops it like daemon stop; daemon logs shows what happened', async (t) => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const st = await d.status()
    const follow = spawn(process.execPath, [CLI, 'daemon', 'logs', '-f', '-n', '1'], {
      env: { ...process.env, ...d.env },
    })
    // A failed assertion below must not leave the follower running (it would hold the test file open).
    t.after(() => follow.kill('SIGKILL'))
    let followed = ''
    follow.stdout.on('data', (c) => {
      followed += c
    })
    // It prints the last line first: from then on it follows.
    await waitFor('logs -f to start', async () => followed.includes('\n'), 30_000)
    process.kill(st.manager.pid as number, 'SIGTERM')
    await waitFor('the manager to stop', async () => !isAlive(st.manager.pid), 30_000)
    assert.equal(isAlive(st.kubo.pid), false)
    assert.deepEqual(await readdir(join(d.kitPath, 'run')), ['http.token'])
    await waitFor('logs -f to show the stop', async () => /manager stopped/.test(followed), 5_000)
    follow.kill('SIGINT')
    assert.match(followed, /info +manager: manager stopping reason=received SIGTERM/)
    const logs = await d.cli(['daemon', 'logs', '-n', '3'])
    assert.equal(logs.code, 0)
    assert.equal(logs.stdout.trim().split('\n').length, 3)
    assert.match(logs.stdout, /manager stopped/)
    const raw = await d.cli(['daemon', 'logs', '--json', '-n', '1'])
    assert.equal((JSON.parse(raw.stdout) as { msg: string }).msg, 'manager stopped')
    const kuboLog = await d.cli(['daemon', 'logs', '--kubo'])
    assert.match(kuboLog.stdout, /Daemon is ready/)
  })

  it('index stop pauses updates, index start resumes them, index refresh works at once', async () => {
    const d = await daemonEnv({ extra: { IPFS_KIT_HEALTH_INTERVAL: '1' } })
    assert.equal((await d.cli(['daemon', 'start', '--interval', '1'])).code, 0)
    const st = await d.status()
    const peer = st.kubo.peer_id as string
    const bin = d.env.IPFS_KIT_IPFS_BIN as string
    const { runIpfs } = await import('../src/kubo/process.js')
    const addPin = async (text: string) => {
      const dir = await makeTempDir('f')
      await writeFile(join(dir, 'f'), text)
      return (await runIpfs(bin, ['add', '-Q', join(dir, 'f')], { ipfsPath: d.ipfsPath })).trim()
    }
    const base = await waitFor('first index', () => pinsInIndex(d.kitPath, peer), 10_000)

    assert.equal((await d.cli(['index', 'stop'])).code, 0)
    const paused = await d.status()
    assert.equal(paused.index.running, false)
    assert.equal(paused.index.paused, true)
    const mtime = (await stat(indexFilePath(d.kitPath, 'pins'))).mtimeMs
    await addPin('added while paused')
    const index = JSON.parse((await d.cli(['index', 'status', '--json'])).stdout) as {
      next_cycle_at: string | null
      cycle_running: boolean
    }
    assert.equal(index.next_cycle_at, null, 'no cycle is scheduled while paused')
    // Three of the manager's own health checks (one a second, on the loop's clock) go by: three
    // intervals in which an unpaused loop would have indexed the new pin.
    const pausedAt = Date.now()
    await waitFor(
      'three health checks while paused',
      async () => Date.parse((await d.status()).kubo.last_health_check ?? '') >= pausedAt + 3_000,
      30_000,
    )
    assert.equal(await pinsInIndex(d.kitPath, peer), base, 'no update while paused')
    assert.equal((await stat(indexFilePath(d.kitPath, 'pins'))).mtimeMs, mtime)

    assert.equal((await d.cli(['index', 'start'])).code, 0)
    await waitFor(
      'the resumed loop to index the new pin',
      async () => (await pinsInIndex(d.kitPath, peer)) === base + 1,
      10_000,
    )

    await d.cli(['index', 'stop'])
    await addPin('added before refresh')
    const refresh = await d.cli(['index', 'refresh'])
    assert.equal(refresh.code, 0, refresh.stderr)
    assert.match(refresh.stdout, /pins: \d+ rows written/)
    assert.equal(await pinsInIndex(d.kitPath, peer), base + 2, 'refresh wrote the new pin before returning')
    const again = await d.cli(['index', 'refresh'])
    assert.match(again.stdout, /rows unchanged/, 'an unchanged pinset is not rewritten')
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
  })

  it('replaces a manager killed with SIGKILL: the next start takes over, adopts its Kubo, and cleans up', async () => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const first = await d.status()
    process.kill(first.manager.pid as number, 'SIGKILL')
    await waitFor('the manager to die', async () => !isAlive(first.manager.pid), 5_000)
    // A temporary file as a write cut short would leave it.
    const tmp = join(d.kitPath, 'pin_metadata/parquet_storage/.tmp-pins.parquet.99999.dead')
    await writeFile(tmp, 'half a file')

    const restart = await d.cli(['daemon', 'start'])
    assert.equal(restart.code, 0, restart.stderr)
    const second = await d.status()
    assert.notEqual(second.manager.pid, first.manager.pid)
    assert.equal(second.kubo.mode, 'started', 'the orphaned Kubo is adopted, not merely attached')
    assert.equal(second.kubo.pid, first.kubo.pid)
    const log = await managerLog(d)
    assert.match(
      log,
      new RegExp(`took over the lock of a manager that is gone.*"stale_pid":${first.manager.pid}`),
    )
    assert.match(log, /adopted the Kubo daemon a previous manager started/)
    await assert.rejects(stat(tmp), 'the temporary file is removed')

    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
    // The stop returns only once the adopted Kubo has exited and let go of the repository.
    assert.equal(isAlive(second.kubo.pid), false, 'the adopted Kubo is stopped like an owned one')
    assert.equal(await repoLockHolder(d.ipfsPath), null, 'the repository lock is free')
    const log2 = await managerLog(d)
    assert.match(log2, new RegExp(`"msg":"Kubo stopped","pid":${second.kubo.pid}`))
    // So a start right after it starts a new Kubo, never meeting a held lock.
    const again = await d.cli(['daemon', 'start'])
    assert.equal(again.code, 0, again.stderr)
    const third = await d.status()
    assert.equal(third.kubo.mode, 'started')
    assert.notEqual(third.kubo.pid, second.kubo.pid)
    assert.equal((await d.cli(['daemon', 'stop'])).code, 0)
  })

  it('daemon stop after a manager died stops the Kubo it left behind', async () => {
    const d = await daemonEnv()
    assert.equal((await d.cli(['daemon', 'start'])).code, 0)
    const st = await d.status()
    process.kill(st.manager.pid as number, 'SIGKILL')
    await waitFor('the manager to die', async () => !isAlive(st.manager.pid), 5_000)
    const stop = await d.cli(['daemon', 'stop'])
    assert.equal(stop.code, 0)
    assert.match(stop.stderr, new RegExp(`stopped the Kubo \\(pid ${st.kubo.pid}\\)`))
    assert.match(stop.stderr, /removed a stale lock/)
    assert.equal(isAlive(st.kubo.pid), false)
  })

  it('when Kubo cannot start, prints the tail of its output and exits 1, leaving nothing behind', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    try {
      const { ipfsPath } = await initTestRepo({ config: [['Addresses.API', `/ip4/127.0.0.1/tcp/${port}`]] })
      const d = await daemonEnv({ ipfsPath })
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 1)
      assert.match(start.stderr, /Kubo exited during start-up/)
      assert.match(start.stderr, /address already in use/)
      assert.deepEqual(await readdir(join(d.kitPath, 'run')), [])
    } finally {
      blocker.close()
    }
  })

  it('refuses a repository locked by another process (a Kubo without an API), naming that process', async () => {
    const { bin, ipfsPath } = await initTestRepo({
      config: [
        ['Addresses.API', []],
        ['Addresses.Gateway', []],
      ],
    })
    const other = spawnDaemon(bin, ipfsPath, ['--offline'])
    try {
      await waitFor(
        'the other Kubo to lock its repository',
        async () => other.outputTail().includes('Daemon is ready'),
        60_000,
      )
      const d = await daemonEnv({ ipfsPath })
      const start = await d.cli(['daemon', 'start'])
      assert.equal(start.code, 1)
      assert.match(
        start.stderr,
        new RegExp(
          `repository ${ipfsPath} is locked by another process \\(pid ${other.child.pid}\\) that does not serve its API`,
        ),
      )
      assert.deepEqual(await readdir(join(d.kitPath, 'run')), [], 'no lock or socket left behind')
      assert.equal(isAlive(other.child.pid ?? null), true, 'the other process is left alone')
    } finally {
      other.child.kill('SIGTERM')
      await other.exited
    }
  })

  it('refuses bad flags with exit 2', async () => {
    const d = await daemonEnv()
    for (const args of [
      ['daemon', 'start', '--interval', '-5'],
      ['daemon', 'start', '--interval', 'soon'],
      ['daemon', 'start', '--bogus'],
      ['daemon', 'logs', '-n', 'x'],
    ]) {
      const r = await d.cli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    }
    await assert.rejects(stat(join(d.kitPath, 'run')), 'nothing was started')
  })
})
