#!/usr/bin/env node
// The `ipfs-kit` command. A query the running manager can answer (warm-shape.ts) is handed to it
// first (warm.ts): the same command, run by its query worker on the same files, already warm.
// Everything else, and every query it does not answer, runs here (dispatch.ts, loaded from
// full.ts only then). The manager's query worker (a child process) starts from this same file,
// with IPFS_KIT_QUERY_WORKER=1.
import { packageVersion } from '../version.js'
import { isWarmQuery } from './warm-shape.js'

async function main(argv: string[]): Promise<number> {
  // Here, not in dispatch.ts: it needs nothing else loaded.
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`ipfs-kit ${packageVersion()}\n`)
    return 0
  }
  if (isWarmQuery(argv) && !process.env.IPFS_KIT_NO_WARM) {
    const { askManager } = await import('./warm.js')
    // Date, not performance: the latter is a module Node loads on first use.
    const t0 = Date.now()
    const answer = await askManager(argv)
    if (answer.answered) {
      if (process.env.IPFS_KIT_DEBUG)
        process.stderr.write(`ipfs-kit: debug: answered by the running manager (${Date.now() - t0} ms)\n`)
      process.stdout.write(answer.out)
      process.stderr.write(answer.err)
      return answer.code
    }
    if (process.env.IPFS_KIT_DEBUG) process.stderr.write(`ipfs-kit: debug: answering here: ${answer.why}\n`)
  }
  const { runCommand } = await import('./full.js')
  return runCommand(argv)
}

/**
 * A command that has answered is done: exit now, rather than wait for Node to wind down the
 * event loop (several milliseconds, a tenth of a query). Only when all output is out: where
 * stdout or stderr write asynchronously (pipes on some systems), a pending write is left to
 * finish and the process ends when it has.
 */
function finish(code: number): void {
  process.exitCode = code
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code)
}

// A reader that stops reading (`ipfs-kit pin list --limit 0 | head`) is not an error of ours:
// end quietly, as a shell pipeline expects, instead of an unhandled EPIPE with its stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

const run = () =>
  main(process.argv.slice(2)).then(finish, (err) =>
    import('./full.js').then(({ report }) => finish(report(err))),
  )
if (process.env.IPFS_KIT_QUERY_WORKER === '1') {
  // Not forked by a manager (the variable set by hand: no IPC channel), this is a plain CLI run.
  import('./full.js').then((w) => w.serveQueries()).catch(run)
} else {
  run()
}
