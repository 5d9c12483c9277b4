// `ipfs-kit pin ...`: list pins from the index (falling back to Kubo), add and remove through Kubo.
import { UsageError } from '../errors.js'
import type { PinListing } from '../pins/list.js'
import type { PinRow } from '../store/pins.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import { timeAgo } from './format.js'
import type { CommandGroup } from './group.js'

function parseLimit(text: string | undefined): number {
  if (text === undefined) return 100
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `pin list: --limit must be a whole number (0 = all), got ${JSON.stringify(text.slice(0, 40))}`,
    )
  }
  return Number(text)
}

function ageText(iso: string | null): string {
  return iso ? timeAgo(iso) : 'unknown'
}

function footer(l: PinListing): string {
  const count =
    l.total === null
      ? `${l.shown} shown (more may match; --limit 0 for all)`
      : `${l.shown} of ${l.total} shown`
  const source =
    l.source === 'index'
      ? `from the index, confirmed ${ageText(l.checked_at)}${l.stale ? ' (STALE: older than three index intervals; is the daemon running?)' : ''}`
      : "from Kubo's RPC API"
  return `${count} · ${source}`
}

function table(rows: PinRow[]): string {
  const cidWidth = Math.max(3, ...rows.map((r) => r.cid.length))
  const lines = [`${'CID'.padEnd(cidWidth)}  TYPE       NAME`]
  for (const r of rows) lines.push(`${r.cid.padEnd(cidWidth)}  ${r.type.padEnd(9)}  ${r.name ?? ''}`)
  return `${lines.join('\n')}\n`
}

const group: CommandGroup = {
  name: 'pin',
  summary: 'list, add and remove pins',
  subcommands: {
    list: {
      usage:
        'pin list [--limit <n>] [--type recursive|direct] [--cid <cid>] [--name <text> | --name-exact <text>] [--json | --ndjson]',
      summary:
        'list pins from the index, in CID order (from Kubo when the index cannot be used; the reason goes to stderr)',
      options: [
        '--limit <n>          at most n pins (default 100; 0 = all)',
        '--type <t>           recursive or direct',
        '--cid <cid>          only this CID (v0 and v1 spellings of one CID match)',
        '--name <text>        names containing text (case-sensitive)',
        '--name-exact <text>  names equal to text',
        '--json               {"source","generated_at","checked_at","stale","total","pins":[{"cid","type","name"}]}',
        '--ndjson             one pin per line, streamed (for a million pins)',
      ],
      async run(args) {
        const { values } = parseFlags('pin list', args, {
          limit: { type: 'string' },
          type: { type: 'string' },
          cid: { type: 'string' },
          name: { type: 'string' },
          'name-exact': { type: 'string' },
          json: { type: 'boolean' },
          ndjson: { type: 'boolean' },
        })
        const limit = parseLimit(values.limit)
        if (values.type !== undefined && values.type !== 'recursive' && values.type !== 'direct') {
          throw new UsageError(
            `pin list: --type must be recursive or direct, got ${JSON.stringify(values.type.slice(0, 40))}`,
          )
        }
        if (values.name !== undefined && values['name-exact'] !== undefined) {
          throw new UsageError('pin list: give --name or --name-exact, not both')
        }
        const nameText = values.name ?? values['name-exact']
        if (nameText !== undefined && nameText === '')
          throw new UsageError('pin list: --name needs some text')
        if (values.json && values.ndjson) throw new UsageError('pin list: give --json or --ndjson, not both')
        const { parseUserCid } = await import('../pins/cid.js')
        const cid = values.cid !== undefined ? await parseUserCid(values.cid, '--cid') : undefined
        const { listPins } = await import('../pins/list.js')
        const rows: PinRow[] = []
        const listing = await listPins({
          query: {
            ...(values.type ? { type: values.type } : {}),
            ...(cid ? { cids: cid.spellings } : {}),
            ...(nameText !== undefined
              ? { name: nameText, nameExact: values['name-exact'] !== undefined }
              : {}),
          },
          limit,
          stream: values.ndjson ?? false,
          onPin: values.ndjson ? (p) => process.stdout.write(`${JSON.stringify(p)}\n`) : (p) => rows.push(p),
          onIndexRejected: (reason) =>
            process.stderr.write(`ipfs-kit: not using the index: ${reason}; answering from Kubo's RPC API\n`),
        })
        if (listing.stale) {
          process.stderr.write(
            `ipfs-kit: the index is stale: last confirmed ${ageText(listing.checked_at)}\n`,
          )
        }
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ ...listing, pins: rows })}\n`)
        } else if (!values.ndjson) {
          process.stdout.write(table(rows))
          process.stderr.write(`${footer(listing)}\n`)
        }
        return 0
      },
    },
    add: {
      usage: 'pin add <cid> [--name <text>] [--direct]',
      summary: 'pin through Kubo (recursive unless --direct); pin list shows it as soon as this returns',
      options: [
        '--name <text>     a name for the pin',
        '--direct          pin only this block, not its DAG',
        '--json            {"pins","kubo_ms","refresh_ms","indexRefreshed","refreshProblem"}',
      ],
      async run(args) {
        const { values, positionals } = parseFlags(
          'pin add',
          args,
          { name: { type: 'string' }, direct: { type: 'boolean' }, ...JSON_FLAG },
          { min: 1, max: 1 },
        )
        const { parseUserCid } = await import('../pins/cid.js')
        const { cid } = await parseUserCid(positionals[0] as string)
        if (values.name !== undefined && values.name === '')
          throw new UsageError('pin add: --name needs some text')
        const { addPin } = await import('../pins/change.js')
        const tty = process.stderr.isTTY
        const r = await addPin(cid, {
          recursive: !values.direct,
          ...(values.name !== undefined ? { name: values.name } : {}),
          onProgress: (n) => {
            if (tty) process.stderr.write(`\rfetched ${n} blocks...`)
          },
        })
        if (tty) process.stderr.write('\r\x1b[K')
        if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`)
        else process.stdout.write(`pinned ${r.pins.join(', ') || cid}${values.direct ? ' (direct)' : ''}\n`)
        if (r.refreshProblem) process.stderr.write(`ipfs-kit: ${r.refreshProblem}\n`)
        return 0
      },
    },
    rm: {
      usage: 'pin rm <cid>',
      summary: 'unpin through Kubo; pin list stops showing it as soon as this returns',
      options: ['--json            {"pins","kubo_ms","refresh_ms","indexRefreshed","refreshProblem"}'],
      async run(args) {
        const { values, positionals } = parseFlags('pin rm', args, JSON_FLAG, { min: 1, max: 1 })
        const { parseUserCid } = await import('../pins/cid.js')
        const { cid } = await parseUserCid(positionals[0] as string)
        const { removePin } = await import('../pins/change.js')
        const r = await removePin(cid)
        if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`)
        else process.stdout.write(`unpinned ${r.pins.join(', ') || cid}\n`)
        if (r.refreshProblem) process.stderr.write(`ipfs-kit: ${r.refreshProblem}\n`)
        return 0
      },
    },
  },
}
export default group
