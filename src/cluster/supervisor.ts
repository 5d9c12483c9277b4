// Owns the IPFS Cluster peer's life for the manager, by the same rules as Kubo's supervisor:
// attach to a peer that already answers at cluster.api (never stopping it), adopt the one a
// crashed manager left running (run/cluster.json), or start `ipfs-cluster-service daemon` on
// IPFS_CLUSTER_PATH after Kubo; then check it on a timer and restart a peer it owns when it exits
// or stops answering, backing off from 1 s to 60 s. ipfs-kit never writes Cluster's configuration:
// a path without service.json is an error that says how to make one.
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { access, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ClusterProcessError, IpfsKitError } from '../errors.js'
import type { Logger } from '../manager/log.js'
import { isProcessAlive, processStartTime } from '../manager/process-info.js'
import { RestartPolicy } from '../manager/restart-policy.js'
import { exitReason, signalProcess, sleep, tail } from '../manager/supervisor.js'
import { writeJsonAtomic } from '../store/atomic.js'
import type { ClusterId, ClusterRest } from './rest.js'

export interface ClusterStatus {
  /** started: this manager runs it (and restarts it); attached: someone else's peer, only watched. */
  mode: 'started' | 'attached' | null
  adopted: boolean
  pid: number | null
  api_address: string
  cluster_path: string
  binary: string | null
  peer_id: string | null
  peername: string | null
  version: string | null
  /** The Kubo peer the Cluster peer pins on (it should be this node). */
  ipfs_peer_id: string | null
  healthy: boolean
  last_health_check: string | null
  last_health_error: string | null
  restarts: number
  last_exit: { at: string; reason: string } | null
  gave_up: boolean
  gave_up_reason: string | null
  last_start_error: string | null
  started_at: string | null
}

export interface ClusterSupervisorOptions {
  rest: ClusterRest
  clusterPath: string
  /** Finds the binary when one must be started (attaching needs none). */
  binary: () => Promise<string>
  /** run/cluster.json: the peer this manager started, for adoption after a crash. */
  recordPath: string
  clusterLog: string
  log: Logger
  healthIntervalMs?: number
  unhealthyAfter?: number
  startTimeoutMs?: number
}

interface ClusterRecord {
  pid: number
  start_time: string | null
  cluster_path: string
  started_at: string
}

async function readRecord(path: string): Promise<ClusterRecord | null> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as Partial<ClusterRecord> | null
    return r && Number.isInteger(r.pid) && typeof r.cluster_path === 'string' ? (r as ClusterRecord) : null
  } catch {
    return null
  }
}

export class ClusterSupervisor {
  readonly #o: Required<ClusterSupervisorOptions>
  #child: ChildProcess | null = null
  #owned: { pid: number; startTime: string | null } | null = null
  #childStartedAt = 0
  #stopping = false
  #restarting = false
  #healthTimer: NodeJS.Timeout | null = null
  #restartTimer: NodeJS.Timeout | null = null
  #failedChecks = 0
  readonly #restarts = new RestartPolicy()
  readonly #status: ClusterStatus

  constructor(options: ClusterSupervisorOptions) {
    this.#o = { healthIntervalMs: 5_000, unhealthyAfter: 3, startTimeoutMs: 120_000, ...options }
    this.#status = {
      mode: null,
      adopted: false,
      pid: null,
      api_address: options.rest.address.multiaddr,
      cluster_path: options.clusterPath,
      binary: null,
      peer_id: null,
      peername: null,
      version: null,
      ipfs_peer_id: null,
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
  }

  /** The REST client, while the peer answers. */
  get rest(): ClusterRest | null {
    return this.#status.healthy ? this.#o.rest : null
  }

  status(): ClusterStatus {
    return { ...this.#status }
  }

  /** Attaches, adopts or starts the peer, then checks it on a timer. */
  async start(): Promise<void> {
    const { log } = this.#o
    const record = await readRecord(this.#o.recordPath)
    if (await this.#answers()) {
      const ours =
        record !== null &&
        record.cluster_path === this.#o.clusterPath &&
        isProcessAlive(record.pid, record.start_time)
      this.#status.mode = ours ? 'started' : 'attached'
      this.#status.adopted = ours
      if (ours && record) {
        this.#owned = { pid: record.pid, startTime: record.start_time }
        this.#status.pid = record.pid
        this.#status.started_at = record.started_at
      }
      log.info(
        ours
          ? 'adopted the Cluster peer a previous manager started'
          : 'attached to a Cluster peer that already answers; it will be watched, never stopped',
        { api: this.#status.api_address, peer_id: this.#status.peer_id },
      )
    } else {
      if (record) await rm(this.#o.recordPath, { force: true })
      await this.#spawn()
    }
    this.#scheduleHealthCheck()
  }

  /** Stops the checks, and the peer this manager owns: SIGTERM (Cluster shuts down cleanly), then SIGKILL. */
  async stop(): Promise<void> {
    this.#stopping = true
    if (this.#healthTimer) clearTimeout(this.#healthTimer)
    if (this.#restartTimer) clearTimeout(this.#restartTimer)
    const owned = this.#owned
    if (this.#status.mode !== 'started' || owned === null) {
      if (this.#status.mode === 'started') await rm(this.#o.recordPath, { force: true })
      return
    }
    const gone = () => !isProcessAlive(owned.pid, owned.startTime)
    const waitGone = async (ms: number) => {
      const deadline = Date.now() + ms
      while (!gone() && Date.now() < deadline) await sleep(50)
      return gone()
    }
    this.#o.log.info('stopping the Cluster peer', { pid: owned.pid })
    this.#signal('SIGTERM')
    if (!(await waitGone(20_000))) {
      this.#o.log.warn('the Cluster peer did not stop after SIGTERM; sending SIGKILL', { pid: owned.pid })
      this.#signal('SIGKILL')
      await waitGone(5_000)
    }
    this.#status.healthy = false
    this.#owned = null
    await rm(this.#o.recordPath, { force: true })
    this.#o.log.info('the Cluster peer stopped', { pid: owned.pid })
  }

  #signal(signal: NodeJS.Signals): void {
    const owned = this.#owned
    if (owned && isProcessAlive(owned.pid, owned.startTime)) signalProcess(owned.pid, signal)
  }

  /** Whether the REST API answers `/id` now; fills in who answers. */
  async #answers(): Promise<boolean> {
    let id: ClusterId
    try {
      id = await this.#o.rest.id({ timeoutMs: 3_000 })
    } catch {
      return false
    }
    this.#status.peer_id = id.id
    this.#status.peername = id.peername || null
    this.#status.version = id.version || null
    this.#status.ipfs_peer_id = id.ipfs_id
    this.#status.healthy = true
    this.#status.last_health_check = new Date().toISOString()
    this.#status.last_health_error = null
    return true
  }

  async #spawn(): Promise<void> {
    const { clusterPath, log } = this.#o
    try {
      await access(join(clusterPath, 'service.json'))
    } catch {
      throw new ClusterProcessError(
        `no IPFS Cluster configuration at ${clusterPath} (no service.json), and no Cluster peer answers at ${this.#status.api_address}`,
        {
          hint: `create one with \`IPFS_CLUSTER_PATH=${clusterPath} ipfs-cluster-service init --consensus crdt\` (and the cluster's secret and peers), or set cluster.api to a running peer`,
        },
      )
    }
    const bin = await this.#o.binary()
    this.#status.binary = bin
    const logOffset = await stat(this.#o.clusterLog).then(
      (s) => s.size,
      () => 0,
    )
    const out = openSync(this.#o.clusterLog, 'a', 0o600)
    let child: ChildProcess
    try {
      child = spawn(bin, ['daemon'], {
        env: { ...process.env, IPFS_CLUSTER_PATH: clusterPath },
        stdio: ['ignore', out, out],
        detached: true,
      })
    } finally {
      closeSync(out)
    }
    const pid = child.pid
    if (pid === undefined) {
      const err = await new Promise<Error>((r) => child.once('error', r))
      throw new ClusterProcessError(`could not start ${bin}: ${err.message}`)
    }
    this.#child = child
    this.#childStartedAt = Date.now()
    Object.assign(this.#status, { mode: 'started', adopted: false, pid, healthy: false })
    this.#status.started_at = new Date().toISOString()
    let exited: string | null = null
    child.once('exit', (code, signal) => {
      exited = exitReason(code, signal)
      this.#onExit(child, exited)
    })
    const startTime = processStartTime(pid)
    this.#owned = { pid, startTime }
    await writeJsonAtomic(this.#o.recordPath, {
      pid,
      start_time: startTime,
      cluster_path: clusterPath,
      started_at: this.#status.started_at,
    } satisfies ClusterRecord)
    log.info('started the Cluster peer', { pid, bin })
    const deadline = Date.now() + this.#o.startTimeoutMs
    while (!(await this.#answers())) {
      if (exited !== null)
        throw new ClusterProcessError(
          `the Cluster peer exited during start-up (${exited}); its last output:\n${await tail(this.#o.clusterLog, logOffset)}`,
        )
      if (this.#stopping) throw new ClusterProcessError('stopped while the Cluster peer was starting')
      if (Date.now() > deadline) {
        this.#signal('SIGKILL')
        throw new ClusterProcessError(
          `the Cluster peer did not answer at ${this.#status.api_address} within ${this.#o.startTimeoutMs / 1000} s of starting; its last output:\n${await tail(this.#o.clusterLog, logOffset)}`,
          {
            hint: 'check that cluster.api is the address in its service.json (api.restapi.http_listen_multiaddress)',
          },
        )
      }
      await sleep(200)
    }
    log.info('the Cluster peer is ready', {
      pid,
      peer_id: this.#status.peer_id,
      version: this.#status.version,
    })
  }

  #onExit(child: ChildProcess, reason: string): void {
    if (child !== this.#child) return
    this.#child = null
    if (this.#owned?.pid === child.pid) this.#owned = null
    this.#status.healthy = false
    this.#status.last_exit = { at: new Date().toISOString(), reason }
    if (this.#stopping) return
    this.#o.log.warn('the Cluster peer exited', { pid: child.pid, reason })
    this.#scheduleRestart(Date.now() - this.#childStartedAt)
  }

  #scheduleRestart(ranForMs: number): void {
    if (this.#stopping || this.#restarting || this.#restartTimer) return
    const delay = this.#restarts.next(ranForMs)
    if (delay === null) {
      this.#status.gave_up = true
      const last =
        this.#status.last_start_error?.split('\n').slice(-1)[0] ?? this.#status.last_exit?.reason ?? 'unknown'
      this.#status.gave_up_reason = this.#restarts.giveUpReason('the Cluster peer', last)
      this.#o.log.error('giving up restarting the Cluster peer', { reason: this.#status.gave_up_reason })
      return
    }
    this.#o.log.info('restarting the Cluster peer', { in_ms: delay })
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
          this.#restarting = false
          this.#status.last_start_error = err instanceof Error ? err.message : String(err)
          this.#o.log.error('restarting the Cluster peer failed', { error: this.#status.last_start_error })
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
    if (this.#restarting || this.#restartTimer || this.#status.gave_up) return
    const owned = this.#status.mode === 'started'
    // An adopted peer is not our child: notice its death by polling.
    if (
      owned &&
      this.#child === null &&
      this.#owned &&
      !isProcessAlive(this.#owned.pid, this.#owned.startTime)
    ) {
      this.#status.healthy = false
      this.#status.last_exit = { at: new Date().toISOString(), reason: 'the adopted Cluster peer is gone' }
      this.#status.pid = null
      this.#owned = null
      this.#scheduleRestart(Number.POSITIVE_INFINITY)
      return
    }
    try {
      const id = await this.#o.rest.id({ timeoutMs: Math.min(10_000, this.#o.healthIntervalMs) })
      if (this.#status.peer_id !== null && id.id !== this.#status.peer_id)
        throw new Error(`the API now answers as Cluster peer ${id.id}, not ${this.#status.peer_id}`)
      if (!this.#status.healthy) this.#o.log.info('the Cluster peer answers again')
      this.#status.healthy = true
      this.#status.last_health_error = null
      this.#status.ipfs_peer_id = id.ipfs_id
      this.#failedChecks = 0
    } catch (err) {
      this.#failedChecks++
      this.#status.healthy = false
      this.#status.last_health_error =
        err instanceof IpfsKitError || err instanceof Error ? err.message : String(err)
      if (this.#failedChecks === 1 || this.#failedChecks % 10 === 0)
        this.#o.log.warn('Cluster health check failed', {
          error: this.#status.last_health_error,
          failed_checks: this.#failedChecks,
        })
      if (owned && this.#failedChecks >= this.#o.unhealthyAfter && this.#owned) {
        this.#o.log.error('the Cluster peer stopped answering; killing it to restart it', {
          pid: this.#owned.pid,
        })
        this.#failedChecks = 0
        this.#signal('SIGKILL')
      }
    } finally {
      this.#status.last_health_check = new Date().toISOString()
    }
  }
}
