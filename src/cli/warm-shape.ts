// Which command lines the running manager may answer for a CLI (warm.ts): read-only queries of
// the index whose work and output are bounded. Anything else (a change, a listing of every pin,
// a content filter over every pin, help, a flag this list does not know) runs in the CLI itself.
// No imports: the CLI checks this before it loads anything else.

interface Shape {
  /** Flags that take a value. */
  values: readonly string[]
  /** Flags that take none. */
  booleans: readonly string[]
  /** Words allowed after the command words. */
  positionals?: readonly string[]
  /** Flags whose value must be a whole number from 1 to 1000 (0 = every row is not bounded). */
  bounded?: readonly string[]
  /** A rule over the flags together (each flag's value, or true for one without). */
  check?: (flags: ReadonlyMap<string, string | true>) => boolean
}

const AREAS = ['system', 'network', 'storage', 'files'] as const

const SHAPES: Record<string, Shape> = {
  'pin list': {
    values: ['cid', 'name', 'name-exact', 'type', 'limit', 'since', 'before', 'sort'],
    booleans: ['json'],
    bounded: ['limit'],
    // By size: only the few largest of all pins (or of one type), which content.parquet's footer
    // names (content-view.ts largestPins); any other sort by size reads every pin.
    check: (f) => {
      const sort = f.get('sort')
      if (sort === undefined || sort === 'cid') return true
      if (sort !== 'size') return false
      const limit = Number(f.get('limit'))
      return (
        limit >= 1 && limit <= 10 && !['cid', 'name', 'name-exact', 'since', 'before'].some((n) => f.has(n))
      )
    },
  },
  'pin events': { values: ['since', 'until', 'cid', 'limit'], booleans: ['json'], bounded: ['limit'] },
  'cluster pin list': {
    values: ['cid', 'name', 'status', 'limit'],
    booleans: ['json'],
    bounded: ['limit'],
  },
  'cluster status': { values: [], booleans: ['json'] },
  'daemon status': { values: [], booleans: ['json'] },
  'index status': { values: [], booleans: ['json'] },
  'storage report': { values: [], booleans: ['json'] },
  state: {
    values: ['since', 'until'],
    booleans: ['json', 'history'],
    positionals: [...AREAS, 'history', 'peers'],
  },
}

/** The command words of argv that name a shape, and the arguments after them. */
function shapeOf(argv: readonly string[]): { shape: Shape; rest: readonly string[] } | null {
  for (const words of [3, 2, 1]) {
    const shape = SHAPES[argv.slice(0, words).join(' ')]
    if (shape && argv.length >= words) return { shape, rest: argv.slice(words) }
  }
  return null
}

/** Whether the manager may answer this command line (the manager checks it again). */
export function isWarmQuery(argv: readonly string[]): boolean {
  const found = shapeOf(argv)
  if (!found) return false
  const { shape, rest } = found
  const flags = new Map<string, string | true>()
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string
    if (!arg.startsWith('-')) {
      if (!shape.positionals?.includes(arg)) return false
      continue
    }
    if (!arg.startsWith('--')) return false
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (shape.booleans.includes(name)) {
      if (eq !== -1) return false
      flags.set(name, true)
      continue
    }
    if (!shape.values.includes(name)) return false
    let value: string | undefined
    if (eq !== -1) value = arg.slice(eq + 1)
    else {
      value = rest[i + 1]
      i++
    }
    if (value === undefined) return false
    if (shape.bounded?.includes(name) && !/^(?:[1-9]\d{0,2}|1000)$/.test(value)) return false
    flags.set(name, value)
  }
  return shape.check ? shape.check(flags) : true
}
