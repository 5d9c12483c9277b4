// The manager's query worker (warm.ts): a child process of the manager that runs the CLI's own
// commands for CLIs that ask, with their output collected instead of printed. A process of its
// own, so that a query never holds up the manager's event loop (its cycles, its proxy, its HTTP
// listener), the manager never holds up a query, and queries run without the manager's V8 flags
// (query-worker.ts says why). Several queries may run at once: each
// one's output is found through an AsyncLocalStorage.
import { AsyncLocalStorage } from 'node:async_hooks'
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

/**
 * Serves the manager's requests over this process's IPC channel (query-worker.ts forks it):
 * { id, argv, env, cwd } in, { id, reply } out. Ends when the manager's end closes.
 */
export function serveQueries(): void {
  const send = process.send?.bind(process)
  if (!send) throw new Error('the query worker runs as a child of the manager')
  setIoProvider(() => outputs.getStore())
  // This process reads the same index files query after query: a chunk checked once is not
  // hashed again while its file is the same (store/integrity.ts says why that is sound).
  rememberCheckedChunks()
  // The manager stopped or died: nothing is left to answer.
  process.on('disconnect', () => process.exit(0))
  process.on('message', (msg: WarmRequest & { id: number }) => {
    answerQuery(msg).then(
      (reply) => {
        if (!reply.answered) {
          send({ id: msg.id, reply })
          return
        }
        // As bytes: the manager sends them out as they are.
        send({
          id: msg.id,
          reply: { ...reply, out: encoder.encode(reply.out), err: encoder.encode(reply.err) },
        })
      },
      (e: unknown) =>
        send({
          id: msg.id,
          reply: { answered: false, why: `the query failed: ${e instanceof Error ? e.message : String(e)}` },
        }),
    )
  })
}
