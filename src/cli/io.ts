// Where a command's output goes. A CLI process writes to its own stdout and stderr; the running
// manager's query worker (warm.ts) runs the same commands for a CLI that asked it, and collects
// each command's output for that CLI instead (several at once: the worker installs a provider
// that finds the output of the query being run).

export interface Io {
  out(text: string): void
  err(text: string): void
}

const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
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
