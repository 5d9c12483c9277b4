// Running the Kubo binary as a child process: one-shot commands (`init`, `config`) with a
// timeout and Kubo's own output in the error, and `ipfs daemon` started with its output kept.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { KuboProcessError } from '../errors.js'

export interface RunIpfsOptions {
  ipfsPath: string
  timeoutMs?: number
  signal?: AbortSignal
}

/** Runs `ipfs <args>` against a repository and returns its stdout; throws with its stderr. */
export function runIpfs(bin: string, args: string[], options: RunIpfsOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        env: { ...process.env, IPFS_PATH: options.ipfsPath },
        timeout: timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout)
          return
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean }
        const why = e.killed
          ? `did not finish within ${timeoutMs} ms`
          : (stderr.trim() || e.message).split('\n')[0]
        reject(
          new KuboProcessError(`\`ipfs ${args.join(' ')}\` (IPFS_PATH=${options.ipfsPath}) failed: ${why}`),
        )
      },
    )
  })
}

/** `ipfs init` with profiles; throws KuboProcessError with Kubo's message when it fails. */
export async function initRepo(bin: string, ipfsPath: string, profiles: string[] = []): Promise<void> {
  const args = ['init']
  if (profiles.length > 0) args.push(`--profile=${profiles.join(',')}`)
  await runIpfs(bin, args, { ipfsPath, timeoutMs: 120_000 })
}

export interface SpawnedDaemon {
  child: ChildProcess
  /** The last lines Kubo printed (stdout and stderr), for error messages. */
  outputTail(): string
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `ipfs daemon` for a repository, keeping the tail of its output. */
export function spawnDaemon(
  bin: string,
  ipfsPath: string,
  extraArgs: string[] = [],
  options: { detached?: boolean } = {},
): SpawnedDaemon {
  const child = spawn(bin, ['daemon', ...extraArgs], {
    env: { ...process.env, IPFS_PATH: ipfsPath },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  })
  const tail: string[] = []
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > 40) tail.shift()
    }
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (err) => {
      tail.push(`spawn failed: ${err.message}`)
      resolve({ code: null, signal: null })
    })
  })
  return { child, outputTail: () => tail.join('\n'), exited }
}
