// The manager's query worker (warm.ts): a worker thread of the manager that runs the CLI's own
// commands for CLIs that ask, with their output collected instead of printed. A thread of its own,
// so that a query never holds up the manager's event loop (its cycles, its proxy, its HTTP
// listener), and the manager never holds up a query. Several queries may run at once: each
// one's output is found through an AsyncLocalStorage.
import { AsyncLocalStorage } from 'node:async_hooks'
import { parentPort } from 'node:worker_threads'
import { rememberCheckedChunks } from '../store/integrity.js'
import { report, runCommand } from './dispatch.js'
import { type Io, setIoProvider } from './io.js'
import { buildIdentity, envDifference, type WarmReply } from './warm.js'
import { isWarmQuery } from './warm-shape.js'

/** An answer longer than this is not sent over the socket: the CLI prints it itself. */
const MAX_ANSWER_CHARS = 32 * 1024 * 1024

export interface WarmRequest {
  argv: unknown
  env: unknown
  cwd: unknown
  build?: unknown
}

const outputs = new AsyncLocalStorage<Io>()

export async function answerQuery(req: WarmRequest): Promise<WarmReply> {
  const { argv, env, cwd } = req
  if ((req.build ?? null) !== buildIdentity())
    return { answered: false, why: 'the manager runs another build of ipfs-kit (restart it)' }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    return { answered: false, why: 'not a command line' }
  if (!isWarmQuery(argv)) return { answered: false, why: 'not a query the manager answers' }
  if (
    !Array.isArray(env) ||
    !env.every((e) => Array.isArray(e) && e.length === 2 && e.every((s) => typeof s === 'string')) ||
    typeof cwd !== 'string'
  )
    return { answered: false, why: 'no environment' }
  const differs = envDifference(env as Array<[string, string]>, cwd)
  if (differs) return { answered: false, why: `its environment is not the manager's: ${differs}` }
  const out: string[] = []
  const err: string[] = []
  let size = 0
  const collect = (to: string[]) => (text: string) => {
    size += text.length
    if (size <= MAX_ANSWER_CHARS) to.push(text)
  }
  const sink: Io = { out: collect(out), err: collect(err) }
  const code = await outputs.run(sink, () => runCommand(argv).catch((e: unknown) => report(e)))
  if (size > MAX_ANSWER_CHARS) return { answered: false, why: 'the answer is too long to send' }
  return { answered: true, code, out: out.join(''), err: err.join('') }
}

const encoder = new TextEncoder()

/** Serves the manager's requests: { id, argv, env, cwd } in, { id, reply } out. */
export function serveQueries(): void {
  const port = parentPort
  if (!port) throw new Error('the query worker runs in a worker thread')
  setIoProvider(() => outputs.getStore())
  // This thread reads the same index files query after query: a chunk checked once is not
  // hashed again while its file is the same (store/integrity.ts says why that is sound).
  rememberCheckedChunks()
  port.on('message', (msg: WarmRequest & { id: number }) => {
    answerQuery(msg).then(
      (reply) => {
        if (!reply.answered) {
          port.postMessage({ id: msg.id, reply })
          return
        }
        // As bytes, handed over to the manager's thread (not copied): they go out as they are.
        const out = encoder.encode(reply.out)
        const err = encoder.encode(reply.err)
        port.postMessage({ id: msg.id, reply: { ...reply, out, err } }, [out.buffer, err.buffer])
      },
      (e: unknown) =>
        port.postMessage({
          id: msg.id,
          reply: { answered: false, why: `the query failed: ${e instanceof Error ? e.message : String(e)}` },
        }),
    )
  })
}
