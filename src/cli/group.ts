// A command group (`daemon`, `pin`, ...): its subcommands, their help, and dispatch.

import { UsageError } from '../errors.js'
import { io } from './io.js'

export interface Subcommand {
  /** `pin list [--limit <n>] ...`: the usage line without `ipfs-kit `. */
  usage: string
  summary: string
  /** Lines of option help, already aligned. */
  options?: string[]
  run: (args: string[]) => Promise<number>
}

export interface CommandGroup {
  name: string
  summary: string
  /** A group that is one command (like `doctor`) has a single subcommand named ''. */
  subcommands: Record<string, Subcommand>
}

export function isHelpFlag(arg: string | undefined): boolean {
  return arg === '--help' || arg === '-h' || arg === 'help'
}

export function groupHelp(group: CommandGroup): string {
  const lines = [`ipfs-kit ${group.name}: ${group.summary}`, '', 'Usage:']
  for (const sub of Object.values(group.subcommands)) {
    lines.push(`  ipfs-kit ${sub.usage}`)
    lines.push(`      ${sub.summary}`)
    for (const opt of sub.options ?? []) lines.push(`      ${opt}`)
  }
  return `${lines.join('\n')}\n`
}

/** Runs a group: picks the subcommand, prints help on request, refuses unknown ones with exit 2. */
export async function runGroup(group: CommandGroup, args: string[]): Promise<number> {
  const single = group.subcommands['']
  let sub: Subcommand | undefined
  let rest: string[]
  if (single) {
    sub = single
    rest = args
  } else {
    const name = args[0]
    if (name === undefined || isHelpFlag(name)) {
      io().out(groupHelp(group))
      return name === undefined ? 2 : 0
    }
    sub = group.subcommands[name]
    if (!sub) {
      throw new UsageError(
        `unknown subcommand '${group.name} ${name}'; expected one of: ${Object.keys(group.subcommands).join(', ')}`,
        { hint: `see \`ipfs-kit ${group.name} --help\`` },
      )
    }
    rest = args.slice(1)
  }
  if (rest.some((a) => a === '--help' || a === '-h')) {
    io().out(
      `Usage: ipfs-kit ${sub.usage}\n  ${sub.summary}\n${(sub.options ?? []).map((o) => `  ${o}\n`).join('')}`,
    )
    return 0
  }
  return sub.run(rest)
}
