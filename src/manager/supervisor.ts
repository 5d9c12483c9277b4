// Owns the Kubo node's life for the manager: initialise the repository if needed, attach to a
// daemon that already serves it (never stopping that one), adopt the Kubo a crashed manager
// left running, or start `ipfs daemon`; then check its health on a timer and restart a Kubo
// it owns when it exits or stops answering, backing off from 1 s to 60 s.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import { IpfsKitError, KuboProcessError } from '../errors.js'
import { describeAddress } from '../kubo/address.js'
import type { KuboEndpoint } from '../kubo/endpoint.js'
import { initRepo } from '../kubo/process.js'
import { readRepoConfig, repoLockHolder } from '../kubo/repo.js'
import { KuboRpc } from '../kubo/rpc.js'
import { writeJsonAtomic } from '../store/atomic.js'
import { type KuboRecord, readKuboRecord } from './kubo-record.js'
import { type Logger, type LogRotation, rotateInPlace } from './log.js'
import { isProcessAlive, processStartTime } from './process-info.js'
import { RestartPolicy } from './restart-policy.js'

export type KuboMode = 'started' | 'attached'

export interface KuboStatus {
  /** started: this manager runs it (and restarts it); attached: someone else's daemon, only watched. */
  mode: KuboMode | null
  adopted: boolean
  pid: number | null
  api_address: string | null
  peer_id: string | null
  version: string | null
  healthy: boolean
  last_health_check: string | null
  last_health_error: string | null
  restarts: number
  last_exit: { at: string; reason: string } | null
  gave_up: boolean
  gave_up_reason: string | null
  /** Why the last (re)start failed, with the tail of Kubo's output. */
  last_start_error: string | null
  started_at: string | null
}

export interface SupervisorOptions {
  bin: string
  ipfsPath: string
  /** Where the record of an owned Kubo is kept (for adoption after a manager crash). */
  recordPath: string
  kuboLog: string
  log: Logger
  offline?: boolean
  /** Profiles for `ipfs init` when the repository does not exist yet. */
  initProfiles?: string[]
  /**
   * Where Kubo's RPC API is now, and its credentials (endpoint.ts: `kubo.api`, else the api file
   * the daemon wrote): asked again whenever Kubo may have moved.
   */
  endpoint: () => Promise<KuboEndpoint | null>
  rpcTimeoutMs?: number
  healthIntervalMs?: number
  /** Consecutive failed health checks before an owned Kubo is declared stuck and restarted. */
  unhealthyAfter?: number
  startTimeoutMs?: number
  /** kubo.log is rotated (copy and truncate) when it grows past this, checked with each health check. */
  kuboLogRotation?: LogRotation | null
}

export class KuboSupervisor {
  readonly #o: Required<SupervisorOptions>
  #rpc: KuboRpc | null = null
  #child: ChildProcess | null = null
  /** The Kubo process this manager owns (started or adopted), by pid and start time. */
  #owned: { pid: number; startTime: string | null } | null = null
  #childStartedAt = 0
  #stopping = false
  #healthTimer: NodeJS.Timeout | null = null
  #restartTimer: NodeJS.Timeout | null = null
  #failedChecks = 0
  readonly #restarts = new RestartPolicy()
  #restarting = false
  readonly #status: KuboStatus = {
    mode: null,
    adopted: false,
    pid: null,
    api_address: null,
    peer_id: null,
    version: null,
    healthy: false,
    last_health_check: null,
    last_health_error: null,
    restarts: 0,
    last_exit: null,
    gave_up: false,
    gave_up_reason: null,
    last_start_error: null,
    started_at: null,
  }

  constructor(options: SupervisorOptions) {
    this.#o = {
      offline: false,
      initProfiles: [],
      rpcTimeoutMs: 10_000,
      healthIntervalMs: 5_000,
      unhealthyAfter: 3,
      startTimeoutMs: 120_000,
      kuboLogRotation: null,
      ...options,
    }
  }

  /** The RPC client of the running Kubo; null while none answers. */
  get rpc(): KuboRpc | null {
    return this.#status.healthy ? this.#rpc : null
  }

  status(): KuboStatus {
    return { ...this.#status }
  }

  /** Brings Kubo up (init, attach, adopt or spawn) and starts health checks. */
  async start(): Promise<void> {
    const { ipfsPath, log } = this.#o
    let repo = await readRepoConfig(ipfsPath)
    if (!repo) {
      log.info('no Kubo repository here; initialising it', {
        ipfs_path: ipfsPath,
        profiles: this.#o.initProfiles,
      })
      await initRepo(this.#o.bin, ipfsPath, this.#o.initProfiles)
      repo = await readRepoConfig(ipfsPath)
      if (!repo) throw new KuboProcessError(`ipfs init did not create a repository at ${ipfsPath}`)
      log.info('initialised the Kubo repository', { ipfs_path: ipfsPath, peer_id: repo.peerId })
    }
    this.#status.peer_id = repo.peerId

    const record = await this.#readRecord()
    const existing = await this.#answeringDaemon()
    if (existing) {
      const ownedByUs =
        record !== null && record.ipfs_path === ipfsPath && isProcessAlive(record.pid, record.start_time)
      this.#status.mode = ownedByUs ? 'started' : 'attached'
      this.#status.adopted = ownedByUs
      this.#status.pid = ownedByUs ? (record?.pid ?? null) : ((await repoLockHolder(ipfsPath)) ?? null)
      if (ownedByUs && record) this.#owned = { pid: record.pid, startTime: record.start_time }
      this.#status.started_at = ownedByUs ? (record?.started_at ?? null) : null
      log.info(
        ownedByUs
          ? 'adopted the Kubo daemon a previous manager started'
          : 'attached to a Kubo daemon that already serves this repository; it will be watched, never stopped',
        { pid: this.#status.pid, api: this.#status.api_address },
      )
    } else {
      if (record) await rm(this.#o.recordPath, { force: true })
      await this.#spawn()
    }
    this.#scheduleHealthCheck()
  }

  /**
   * Stops health checks, and stops the Kubo this manager owns: RPC shutdown, SIGTERM, SIGKILL.
   * Returns once that process has exited and let go of the repository lock, whether it is this
   * manager's child or one adopted from a manager that died, so that a start right after never
   * meets a held lock.
   */
  async stop(): Promise<void> {
    this.#stopping = true
    if (this.#healthTimer) clearTimeout(this.#healthTimer)
    if (this.#restartTimer) clearTimeout(this.#restartTimer)
    const owned = this.#owned
    if (this.#status.mode !== 'started') return
    if (owned === null) {
      // It exited already (during start-up, say): only its record is left to remove.
      await rm(this.#o.recordPath, { force: true })
      return
    }
    const { pid } = owned
    const gone = async () =>
      !isProcessAlive(pid, owned.startTime) && (await repoLockHolder(this.#o.ipfsPath)) !== pid
    const waitGone = async (ms: number) => {
      const deadline = Date.now() + ms
      while (!(await gone()) && Date.now() < deadline) await sleep(50)
      return gone()
    }
    this.#o.log.info('stopping Kubo', { pid })
    try {
      await this.#rpc?.shutdown({ timeoutMs: 5_000 })
    } catch (err) {
      this.#o.log.warn('Kubo did not accept shutdown over RPC; sending SIGTERM', { error: err })
    }
    if (!(await waitGone(20_000))) {
      this.#signalOwned('SIGTERM')
      if (!(await waitGone(10_000))) {
        this.#o.log.warn('Kubo did not stop after SIGTERM; sending SIGKILL', { pid })
        this.#signalOwned('SIGKILL')
        if (!(await waitGone(5_000))) {
          this.#o.log.error('Kubo is still there after SIGKILL', { pid })
          return
        }
      }
    }
    this.#status.healthy = false
    this.#owned = null
    await rm(this.#o.recordPath, { force: true })
    this.#o.log.info('Kubo stopped', { pid })
  }

  /** Signals the Kubo this manager owns, if that very process (pid and start time) still runs. */
  #signalOwned(signal: NodeJS.Signals): void {
    const owned = this.#owned
    if (owned && isProcessAlive(owned.pid, owned.startTime)) signalProcess(owned.pid, signal)
  }

  // --- internals ---------------------------------------------------------------------------

  /** The daemon that serves this repository now, if any: its api file answers `id` with our peer ID. */
  async #answeringDaemon(): Promise<boolean> {
    const endpoint = await this.#o.endpoint().catch(() => null)
    if (!endpoint) return false
    const { address, auth } = endpoint
    const rpc = new KuboRpc({ address, auth, timeoutMs: 3_000 })
    try {
      const [id, version] = await Promise.all([rpc.id(), rpc.version()])
      if (id.id !== this.#status.peer_id) {
        throw new KuboProcessError(
          `the Kubo API at ${describeAddress(address)} serves peer ${id.id}, not this repository's peer ${this.#status.peer_id}`,
          { hint: 'check kubo.api in config.yaml and IPFS_PATH' },
        )
      }
      // Connections reused: the manager makes many small calls (a root block per pin examined).
      this.#rpc = new KuboRpc({ address, auth, timeoutMs: this.#o.rpcTimeoutMs, keepAlive: true })
      this.#status.api_address = address.multiaddr
      this.#status.version = version.version
      this.#status.healthy = true
      this.#status.last_health_check = new Date().toISOString()
      return true
    } catch (err) {
      if (err instanceof KuboProcessError) throw err
      return false
    }
  }

  async #spawn(): Promise<void> {
    const { bin, ipfsPath, log } = this.#o
    const lockedBy = await repoLockHolder(ipfsPath)
    if (typeof lockedBy === 'number') {
      throw new KuboProcessError(
        `the Kubo repository ${ipfsPath} is locked by another process (pid ${lockedBy}) that does not serve its API`,
        { hint: `stop that process, or point IPFS_PATH at another repository (see \`ps -p ${lockedBy}\`)` },
      )
    }
    const args = ['daemon']
    if (this.#o.offline) args.push('--offline')
    const logOffset = await stat(this.#o.kuboLog).then(
      (s) => s.size,
      () => 0,
    )
    const out = openSync(this.#o.kuboLog, 'a', 0o600)
    let child: ChildProcess
    try {
      // Own process group: a Ctrl-C meant for a foreground manager must not reach Kubo
      // directly; the manager stops it in order.
      child = spawn(bin, args, {
        env: { ...process.env, IPFS_PATH: ipfsPath },
        stdio: ['ignore', out, out],
        detached: true,
      })
    } finally {
      closeSync(out)
    }
    const pid = child.pid
    if (pid === undefined) {
      const err = await new Promise<Error>((r) => child.once('error', r))
      throw new KuboProcessError(`could not start ${bin}: ${err.message}`)
    }
    this.#child = child
    this.#childStartedAt = Date.now()
    this.#status.mode = 'started'
    this.#status.adopted = false
    this.#status.pid = pid
    this.#status.healthy = false
    this.#status.started_at = new Date().toISOString()
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null
    child.once('exit', (code, signal) => {
      exited = { code, signal }
      this.#onExit(child, code, signal)
    })
    const startTime = processStartTime(pid)
    this.#owned = { pid, startTime }
    // Atomically: a record cut by a crash would make the next manager take its own orphaned Kubo
    // for a stranger's, attach to it and never stop it.
    await writeJsonAtomic(this.#o.recordPath, {
      pid,
      start_time: startTime,
      ipfs_path: ipfsPath,
      started_at: this.#status.started_at,
    } satisfies KuboRecord)
    log.info('started Kubo', { pid, bin, offline: this.#o.offline })

    const deadline = Date.now() + this.#o.startTimeoutMs
    while (!(await this.#answeringDaemon())) {
      if (exited) {
        const e = exited as { code: number | null; signal: NodeJS.Signals | null }
        throw new KuboProcessError(
          `Kubo exited during start-up (${exitReason(e.code, e.signal)}); its last output:\n${await tail(this.#o.kuboLog, logOffset)}`,
        )
      }
      if (this.#stopping) throw new KuboProcessError('stopped while Kubo was starting')
      if (Date.now() > deadline) {
        this.#signalOwned('SIGKILL')
        throw new KuboProcessError(
          `Kubo did not answer within ${this.#o.startTimeoutMs / 1000} s of starting; its last output:\n${await tail(this.#o.kuboLog, logOffset)}`,
        )
      }
      await sleep(100)
    }
    log.info('Kubo is ready', { pid, api: this.#status.api_address, version: this.#status.version })
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.#child) return
    this.#child = null
    if (this.#owned?.pid === child.pid) this.#owned = null
    const reason = exitReason(code, signal)
    this.#status.healthy = false
    this.#status.last_exit = { at: new Date().toISOString(), reason }
    if (this.#stopping) return
    this.#o.log.warn('Kubo exited', { pid: child.pid, reason })
    this.#scheduleRestart(Date.now() - this.#childStartedAt)
  }

  #scheduleRestart(ranForMs: number): void {
    if (this.#stopping || this.#restarting || this.#restartTimer) return
    const delay = this.#restarts.next(ranForMs)
    if (delay === null) {
      this.#status.gave_up = true
      const last =
        this.#status.last_start_error?.split('\n').slice(-1)[0] ?? this.#status.last_exit?.reason ?? 'unknown'
      this.#status.gave_up_reason = this.#restarts.giveUpReason('Kubo', last)
      this.#o.log.error('giving up restarting Kubo', { reason: this.#status.gave_up_reason })
      return
    }
    this.#o.log.info('restarting Kubo', { in_ms: delay, fast_failures: this.#restarts.fastFailures })
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = null
      this.#restarting = true
      this.#status.restarts++
      this.#spawn().then(
        () => {
          this.#restarting = false
          this.#status.last_start_error = null
        },
        (err: unknown) => {
          // Clear the flag first: scheduling is refused while a restart is in progress.
          this.#restarting = false
          const message = err instanceof Error ? err.message : String(err)
          this.#status.last_start_error = message
          this.#o.log.error('restarting Kubo failed', { error: message })
          if (this.#child === null && !this.#stopping) this.#scheduleRestart(0)
        },
      )
    }, delay)
  }

  #scheduleHealthCheck(): void {
    if (this.#stopping) return
    this.#healthTimer = setTimeout(() => {
      this.#healthCheck().finally(() => this.#scheduleHealthCheck())
    }, this.#o.healthIntervalMs)
  }

  async #healthCheck(): Promise<void> {
    if (this.#o.kuboLogRotation) {
      try {
        if (rotateInPlace(this.#o.kuboLog, this.#o.kuboLogRotation))
          this.#o.log.info('rotated kubo.log', { file: this.#o.kuboLog })
      } catch (err) {
        this.#o.log.warn('could not rotate kubo.log', { error: err })
      }
    }
    if (this.#restarting || this.#restartTimer || this.#status.gave_up) return
    const now = new Date().toISOString()
    const owned = this.#status.mode === 'started'
    // A Kubo adopted from a crashed manager is not our child: notice its death by polling.
    if (
      owned &&
      this.#child === null &&
      this.#owned !== null &&
      !isProcessAlive(this.#owned.pid, this.#owned.startTime)
    ) {
      this.#status.healthy = false
      this.#status.last_exit = { at: now, reason: 'the adopted Kubo process is gone' }
      this.#o.log.warn('Kubo exited', { pid: this.#status.pid, reason: this.#status.last_exit.reason })
      this.#status.pid = null
      this.#owned = null
      this.#scheduleRestart(Number.POSITIVE_INFINITY)
      return
    }
    try {
      const rpc = this.#rpc
      if (!rpc) throw new Error('no API address yet')
      const id = await rpc.id({ timeoutMs: Math.min(this.#o.rpcTimeoutMs, this.#o.healthIntervalMs) })
      if (id.id !== this.#status.peer_id) throw new Error(`the API answers as peer ${id.id}`)
      if (!this.#status.healthy) this.#o.log.info('Kubo answers again')
      this.#status.healthy = true
      this.#status.last_health_error = null
      this.#failedChecks = 0
    } catch (err) {
      // An attached daemon may have been restarted on another port: look at the api file again.
      if (!owned && (await this.#answeringDaemon().catch(() => false))) {
        this.#failedChecks = 0
        return
      }
      this.#failedChecks++
      this.#status.healthy = false
      this.#status.last_health_error =
        err instanceof IpfsKitError || err instanceof Error ? err.message : String(err)
      if (this.#failedChecks === 1 || this.#failedChecks % 10 === 0) {
        this.#o.log.warn('Kubo health check failed', {
          error: this.#status.last_health_error,
          failed_checks: this.#failedChecks,
        })
      }
      if (owned && this.#failedChecks >= this.#o.unhealthyAfter && this.#owned !== null) {
        this.#o.log.error('Kubo stopped answering; killing it to restart it', {
          pid: this.#owned.pid,
          failed_checks: this.#failedChecks,
        })
        this.#failedChecks = 0
        this.#signalOwned('SIGKILL')
      }
    } finally {
      this.#status.last_health_check = now
    }
  }

  async #readRecord(): Promise<KuboRecord | null> {
    return readKuboRecord(this.#o.recordPath)
  }
}

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`
  return code === null ? 'exited' : `exited with code ${code}`
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** The last lines a log file got since `fromOffset`. */
export async function tail(path: string, fromOffset: number, lines = 20): Promise<string> {
  try {
    const fh = await open(path, 'r')
    try {
      const size = (await fh.stat()).size
      const start = Math.max(fromOffset, size - 64 * 1024)
      const buf = Buffer.alloc(size - start)
      await fh.read(buf, 0, buf.length, start)
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(no output)'
    } finally {
      await fh.close()
    }
  } catch {
    return '(no output)'
  }
}
