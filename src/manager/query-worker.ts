// The manager's side of warm queries (src/cli/warm.ts): one worker process, started at the first
// query and kept, that runs the CLI's query commands; a request it does not answer in time, or
// one it was running when it died, is declined, and the CLI answers on its own.
//
// A child process, not a worker thread: V8's flags are per process. The manager ran with
// --optimize-for-size when this was chosen, under which the same queries ran 1.3-3x slower
// (measured at a million pins: `state history network --since 24h` 15 against 44 ms, `storage
// report` 127 against 178 ms, in one process each way); it now runs with a flag of its own
// (node-flags.ts), and the worker's heap and collections stay apart from the manager's. The child
// runs with Node's defaults, and exits when the manager's end of its channel closes, however the
// manager ends.
import { type ChildProcess, fork } from 'node:child_process'
import type { Socket } from 'node:net'

export interface QueryRequest {
  argv: unknown
  env: unknown
  cwd: unknown
  build?: unknown
}

export type QueryReply =
  | { answered: true; code: number; out: Uint8Array; err: Uint8Array }
  | { answered: false; why: string }

/** The last bytes a worker wrote to stderr: what it says when it cannot start. */
const STDERR_TAIL = 2048

export class QueryWorker {
  #worker: ChildProcess | null = null
  #pending = new Map<number, (reply: QueryReply) => void>()
  #next = 1
  #closed = false
  /** A worker that failed to start, or died soon after: none is tried again before then. */
  #brokenUntil = 0
  #answered = 0
  #declined = 0
  #lastDeclined: string | null = null
  readonly #script: string
  readonly #onError: (err: Error) => void

  /** script: the CLI's entry (its launcher or main.js), which serves queries in a worker process. */
  constructor(script: string, onError: (err: Error) => void) {
    this.#script = script
    this.#onError = onError
  }

  /** What `daemon status` shows: queries answered for CLIs, and declined (they answered themselves). */
  status(): {
    answered: number
    declined: number
    last_declined: string | null
    worker: boolean
    worker_pid: number | null
  } {
    return {
      answered: this.#answered,
      declined: this.#declined,
      last_declined: this.#lastDeclined,
      worker: this.#worker !== null,
      worker_pid: this.#worker?.pid ?? null,
    }
  }

  async run(req: QueryRequest, timeoutMs = 10_000): Promise<QueryReply> {
    const reply = await this.#run(req, timeoutMs)
    if (reply.answered) this.#answered++
    else {
      this.#declined++
      this.#lastDeclined = reply.why
    }
    return reply
  }

  #run(req: QueryRequest, timeoutMs: number): Promise<QueryReply> {
    if (this.#closed) return Promise.resolve({ answered: false, why: 'the manager is stopping' })
    if (!this.#worker && Date.now() < this.#brokenUntil)
      return Promise.resolve({
        answered: false,
        why: 'the query worker failed; it is tried again within a minute',
      })
    const worker = this.#start()
    const id = this.#next++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        resolve({ answered: false, why: `no answer within ${timeoutMs} ms` })
      }, timeoutMs)
      this.#pending.set(id, (reply) => {
        clearTimeout(timer)
        this.#pending.delete(id)
        resolve(reply)
      })
      // A channel already closed calls back with the error.
      worker.send({ id, argv: req.argv, env: req.env, cwd: req.cwd, build: req.build }, (err) => {
        if (err) this.#pending.get(id)?.({ answered: false, why: 'the query worker stopped' })
      })
    })
  }

  #start(): ChildProcess {
    if (this.#worker) return this.#worker
    const worker = fork(this.#script, [], {
      env: { ...process.env, IPFS_KIT_QUERY_WORKER: '1' },
      // Node's defaults, not the manager's flags (above).
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    // Queries are what keeps it busy, never the manager alive.
    worker.unref()
    worker.channel?.unref()
    let stderr = ''
    worker.stderr?.setEncoding('utf8')
    worker.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL)
    })
    ;(worker.stderr as Socket | null)?.unref()
    let answeredAny = false
    worker.on('message', (msg: { id: number; reply: QueryReply }) => {
      answeredAny = true
      this.#pending.get(msg.id)?.(msg.reply)
    })
    const startedAt = Date.now()
    worker.on('error', (err) => this.#onError(err))
    worker.on('exit', (code, signal) => {
      if (this.#worker === worker) this.#worker = null
      if (!this.#closed && (code !== 0 || signal !== null))
        this.#onError(
          new Error(
            `the query worker ended (${signal ?? `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
          ),
        )
      // One that could not start (it ended before answering anything, soon) would fail every
      // query the same way, each after the cost of starting it: wait a minute before the next.
      // One that ran and was killed is started again at the next query.
      if (!this.#closed && !answeredAny && Date.now() - startedAt < 10_000)
        this.#brokenUntil = Date.now() + 60_000
      for (const settle of [...this.#pending.values()])
        settle({ answered: false, why: 'the query worker stopped' })
    })
    this.#worker = worker
    return worker
  }

  async close(): Promise<void> {
    this.#closed = true
    const worker = this.#worker
    this.#worker = null
    if (!worker || worker.exitCode !== null || worker.signalCode !== null) return
    const exited = new Promise((resolve) => worker.once('exit', resolve))
    worker.kill()
    await exited
  }
}
