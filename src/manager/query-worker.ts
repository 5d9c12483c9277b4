// The manager's side of warm queries (src/cli/warm.ts): one worker thread, started at the first
// query and kept, that runs the CLI's query commands; a request it does not answer in time, or
// one it was running when it died, is declined, and the CLI answers on its own.
import { Worker } from 'node:worker_threads'

export interface QueryRequest {
  argv: unknown
  env: unknown
  cwd: unknown
  build?: unknown
}

export type QueryReply =
  | { answered: true; code: number; out: Uint8Array; err: Uint8Array }
  | { answered: false; why: string }

export class QueryWorker {
  #worker: Worker | null = null
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

  /** script: the CLI's entry (its launcher or main.js), which serves queries in a worker thread. */
  constructor(script: string, onError: (err: Error) => void) {
    this.#script = script
    this.#onError = onError
  }

  /** What `daemon status` shows: queries answered for CLIs, and declined (they answered themselves). */
  status(): { answered: number; declined: number; last_declined: string | null; worker: boolean } {
    return {
      answered: this.#answered,
      declined: this.#declined,
      last_declined: this.#lastDeclined,
      worker: this.#worker !== null,
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
      worker.postMessage({ id, argv: req.argv, env: req.env, cwd: req.cwd, build: req.build })
    })
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(this.#script, {
      argv: [],
      env: { ...process.env, IPFS_KIT_QUERY_WORKER: '1' },
    })
    // Queries are what keeps it busy, never the manager alive.
    worker.unref()
    worker.on('message', (msg: { id: number; reply: QueryReply }) => this.#pending.get(msg.id)?.(msg.reply))
    const startedAt = Date.now()
    worker.on('error', (err) => this.#onError(err))
    worker.on('exit', () => {
      if (this.#worker === worker) this.#worker = null
      // One that could not start or died at once would fail every query the same way, each after
      // the cost of starting it: wait a minute before the next.
      if (!this.#closed && Date.now() - startedAt < 10_000) this.#brokenUntil = Date.now() + 60_000
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
    await worker?.terminate()
  }
}
