// Runs one command line: picks the command group, loads only its module, and turns errors into
// a message and DESIGN.md's exit codes (0 done, 1 could not be done, 2 bad usage). The CLI runs
// it on its own process; the manager's query worker (warm.ts) runs it for a CLI that asked.
import { IpfsKitError, UsageError } from '../errors.js'
import { COMMANDS } from './commands.js'
import { isHelpFlag } from './group.js'
import { io } from './io.js'

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length))
  const groups = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n')
  return `ipfs-kit: runs a Kubo (IPFS) node and keeps a fast, truthful index of what it holds.

Usage: ipfs-kit <command> [<subcommand>] [flags]

Commands:
${groups}

Run \`ipfs-kit <command> --help\` for a command's subcommands and flags.

Environment:
  IPFS_KIT_PATH      ipfs-kit's folder: index, config.yaml, logs (default ~/.ipfs_kit)
  IPFS_PATH          the Kubo repository (default ~/.ipfs)
  IPFS_KIT_IPFS_BIN  the Kubo binary to use

Exit codes: 0 done, 1 could not be done, 2 bad usage or bad input.
`
}

export async function runCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || isHelpFlag(name)) {
    io().out(help())
    return name === undefined ? 2 : 0
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!entry) {
    throw new UsageError(
      `unknown command ${JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}...` : name)}`,
      {
        hint: `expected one of: ${Object.keys(COMMANDS).join(', ')}; see \`ipfs-kit --help\``,
      },
    )
  }
  const [{ default: group }, { runGroup }] = await Promise.all([entry.load(), import('./group.js')])
  return runGroup(group, rest)
}

/**
 * An error of ours, also from the manager's bundle (daemon start --foreground runs it in this
 * process, with its own copy of the error classes): same name, exit code and hint.
 */
function isOurs(err: unknown): err is IpfsKitError {
  if (err instanceof IpfsKitError) return true
  const e = err as Partial<IpfsKitError> | null
  return err instanceof Error && (e?.exitCode === 1 || e?.exitCode === 2) && 'hint' in err
}

export function report(err: unknown): number {
  if (isOurs(err)) {
    io().err(`ipfs-kit: ${err.message}\n`)
    if (err.hint) io().err(`  ${err.hint}\n`)
    if (process.env.IPFS_KIT_DEBUG && err.stack) io().err(`${err.stack}\n`)
    return err.exitCode
  }
  io().err(`ipfs-kit: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  return 1
}
