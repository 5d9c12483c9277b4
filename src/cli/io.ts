// Where a command's output goes. A CLI process writes to its own stdout and stderr; the running
// manager's query worker (warm.ts) runs the same commands for a CLI that asked it, and collects
// each command's output for that CLI instead (several at once: the worker installs a provider
// that finds the output of the query being run).

export interface Io {
  out(text: string): void
  err(text: string): void
  /**
   * Resolves once stdout has taken what was written, when it holds some back (a pipe read more
   * slowly than a listing is written). A long output waits for it between batches, so that a
   * million pins are not all held in memory on their way to a slow reader.
   */
  drained?(): Promise<void> | undefined
}

const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  drained: () =>
    process.stdout.writableNeedDrain
      ? new Promise((resolve) => {
          const done = () => {
            process.stdout.off('drain', done).off('close', done)
            resolve()
          }
          process.stdout.on('drain', done).on('close', done)
        })
      : undefined,
}

let provider: (() => Io | undefined) | null = null

/** The output of the command being run. */
export function io(): Io {
  return provider?.() ?? processIo
}

/** Set by the query worker only. */
export function setIoProvider(p: () => Io | undefined): void {
  provider = p
}
