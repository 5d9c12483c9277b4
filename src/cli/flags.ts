// Flag parsing shared by every command: node's parseArgs in strict mode, with its errors turned
// into UsageError (exit 2) that name the bad flag or value.
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UsageError } from '../errors.js'

export type FlagSpec = NonNullable<ParseArgsConfig['options']>

/** Flags every command that prints data accepts. */
export const JSON_FLAG = { json: { type: 'boolean' } } as const satisfies FlagSpec

export function parseFlags<T extends FlagSpec>(
  command: string,
  args: string[],
  options: T,
  positionals: { min?: number; max?: number } = {},
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
  >
  // `--limit -1` would be refused by parseArgs as an ambiguous flag; hand the negative number to
  // the command instead, whose check names the real problem ("must be a whole number").
  const joined: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const next = args[i + 1]
    const spec = arg.startsWith('--') ? options[arg.slice(2)] : undefined
    if (spec?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`)
      i++
    } else joined.push(arg)
  }
  try {
    parsed = parseArgs({ args: joined, options, strict: true, allowPositionals: true })
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    throw new UsageError(`${command}: ${message}`, { hint: `see \`ipfs-kit ${command} --help\`` })
  }
  const count = parsed.positionals.length
  if (count < (positionals.min ?? 0)) {
    throw new UsageError(`${command}: missing argument`, { hint: `see \`ipfs-kit ${command} --help\`` })
  }
  if (count > (positionals.max ?? 0)) {
    throw new UsageError(
      `${command}: unexpected argument ${JSON.stringify(parsed.positionals[positionals.max ?? 0])}`,
      {
        hint: `see \`ipfs-kit ${command} --help\``,
      },
    )
  }
  return parsed
}

/** `--limit <n>`: a whole number, 0 for all; 100 when not given. */
export function parseLimit(text: string | undefined, command = 'pin list'): number {
  if (text === undefined) return 100
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `${command}: --limit must be a whole number (0 = all), got ${JSON.stringify(text.slice(0, 40))}`,
    )
  }
  return Number(text)
}
