#!/usr/bin/env node
// The `ipfs-kit` command: picks the command group, loads only its module, and turns errors into
// a message on stderr and DESIGN.md's exit codes (0 done, 1 could not be done, 2 bad usage).
import { IpfsKitError, UsageError } from '../errors.js'
import { packageVersion } from '../version.js'
import { COMMANDS } from './commands.js'
import { isHelpFlag } from './group.js'

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

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || isHelpFlag(name)) {
    process.stdout.write(help())
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`ipfs-kit ${packageVersion()}\n`)
    return 0
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

function report(err: unknown): number {
  if (isOurs(err)) {
    process.stderr.write(`ipfs-kit: ${err.message}\n`)
    if (err.hint) process.stderr.write(`  ${err.hint}\n`)
    if (process.env.IPFS_KIT_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    return err.exitCode
  }
  process.stderr.write(
    `ipfs-kit: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  return 1
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

main(process.argv.slice(2)).then(finish, (err) => finish(report(err)))
