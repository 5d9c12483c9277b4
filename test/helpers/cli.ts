// Runs the built `ipfs-kit` binary as a user would, and returns what it printed and its exit code.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What users run: the launcher with the one-file build. */
export const CLI = fileURLToPath(new URL('../../../bin/ipfs-kit.cjs', import.meta.url))
/** The same CLI as separate ES modules, for tests that trace which modules a command loads. */
export const CLI_MODULES = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export function runCli(
  args: string[],
  options: {
    env?: Record<string, string | undefined>
    nodeArgs?: string[]
    timeoutMs?: number
    /** Run the ES-module build instead of the launcher. */
    modules?: boolean
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), options.modules ? CLI_MODULES : CLI, ...args],
      {
        env: { ...process.env, ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`ipfs-kit ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms`))
    }, options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
