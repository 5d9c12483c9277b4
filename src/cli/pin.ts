// `ipfs-kit pin ...`: list pins from the index (falling back to Kubo), add and remove through Kubo.

import type { ContentKind } from '../content/kinds.js'
import { PinSourceUnavailableError, UsageError } from '../errors.js'
import type { ContentFilter, SizedPin } from '../pins/content-view.js'
import type { PinListing } from '../pins/list.js'
import type { PinRow, PinType } from '../store/pins.js'
import { JSON_FLAG, parseFlags, parseLimit } from './flags.js'
import { humanBytes, timeAgo, timeOf } from './format.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

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

function table(rows: SizedPin[]): string {
  const cidWidth = Math.max(3, ...rows.map((r) => r.cid.length))
  const size = (r: SizedPin) => (r.size === null ? '-' : humanBytes(r.size))
  const sizeWidth = Math.max(4, ...rows.map((r) => size(r).length))
  const kindWidth = Math.max(4, ...rows.map((r) => (r.kind ?? '-').length))
  const lines = [
    `${'CID'.padEnd(cidWidth)}  TYPE       ${'SIZE'.padStart(sizeWidth)}  ${'KIND'.padEnd(kindWidth)}  NAME`,
  ]
  for (const r of rows)
    lines.push(
      `${r.cid.padEnd(cidWidth)}  ${r.type.padEnd(9)}  ${size(r).padStart(sizeWidth)}  ${(r.kind ?? '-').padEnd(kindWidth)}  ${r.name ?? ''}`,
    )
  return `${lines.join('\n')}\n`
}

/** --sort, --min-size, --kind and --mime, checked (exit 2 naming the bad value). */
async function contentFlags(values: {
  sort?: string | undefined
  'min-size'?: string | undefined
  kind?: string | undefined
  mime?: string | undefined
}): Promise<{ sort: 'cid' | 'size'; filter: ContentFilter }> {
  const { CONTENT_KINDS, parseSize } = await import('../content/kinds.js')
  const shown = (t: string) => JSON.stringify(t.slice(0, 40))
  const sort = values.sort ?? 'cid'
  if (sort !== 'cid' && sort !== 'size')
    throw new UsageError(`pin list: --sort must be cid or size, got ${shown(sort)}`)
  const filter: ContentFilter = {}
  if (values['min-size'] !== undefined) {
    const n = parseSize(values['min-size'])
    if (n === null)
      throw new UsageError(
        `pin list: --min-size must be a size in bytes or with a unit (10KB, 5MiB, 2GB), got ${shown(values['min-size'])}`,
      )
    filter.minSize = n
  }
  if (values.kind !== undefined) {
    if (!(CONTENT_KINDS as readonly string[]).includes(values.kind))
      throw new UsageError(
        `pin list: --kind must be one of ${CONTENT_KINDS.join(', ')}, got ${shown(values.kind)}`,
      )
    filter.kind = values.kind as ContentKind
  }
  if (values.mime !== undefined) {
    if (!/^[a-z0-9][a-z0-9.+-]*\/(\*|[a-z0-9][a-z0-9.+-]*)$/i.test(values.mime))
      throw new UsageError(
        `pin list: --mime must be a MIME type such as image/png or image/*, got ${shown(values.mime)}`,
      )
    filter.mime = values.mime.toLowerCase()
  }
  return { sort, filter }
}

const group: CommandGroup = {
  name: 'pin',
  summary: 'list, add and remove pins',
  subcommands: {
    list: {
      usage:
        'pin list [--limit <n>] [--type recursive|direct] [--cid <cid>] [--name <text> | --name-exact <text>] [--since <t>] [--before <t>] [--sort cid|size] [--min-size <n>] [--kind <kind>] [--mime <type>] [--json | --ndjson]',
      summary:
        'list pins from the index, in CID order (from Kubo when the index cannot be used; the reason goes to stderr)',
      options: [
        '--limit <n>          at most n pins (default 100; 0 = all)',
        '--type <t>           recursive or direct',
        '--cid <cid>          only this CID (v0 and v1 spellings of one CID match)',
        '--name <text>        names containing text (case-sensitive)',
        '--name-exact <text>  names equal to text',
        '--sort <by>          cid (default) or size (largest first; not yet examined last)',
        '--min-size <n>       DAGs of at least n bytes (10KB, 5MiB, 2GB)',
        '--kind <kind>        file, directory, hamt-directory, symlink, raw, dag-cbor or other',
        '--mime <type>        a MIME type (image/png) or all of a family (image/*)',
        '--since <t>          pins first seen at or after t: a duration before now (90m, 7d) or an ISO time',
        '--before <t>         pins first seen before t, the same forms',
        '--json               {"source","generated_at","checked_at","stale","total","pins":[{"cid","type","name","first_seen","first_seen_exact","size","kind","mime"}]}',
        '                     size: bytes of the DAG as `ipfs dag stat --offline` counts them, null until examined',
        '                     first_seen: when ipfs-kit first saw the pin; first_seen_exact false: it was there at',
        '                     the first index (older than first_seen); both null when answered from Kubo',
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
          sort: { type: 'string' },
          'min-size': { type: 'string' },
          kind: { type: 'string' },
          mime: { type: 'string' },
          since: { type: 'string' },
          before: { type: 'string' },
        })
        const limit = parseLimit(values.limit)
        const since = timeOf('pin list', '--since', values.since)
        const beforeT = timeOf('pin list', '--before', values.before)
        if (since && beforeT && since >= beforeT)
          throw new UsageError('pin list: --since must be before --before')
        const timeFilter = since !== undefined || beforeT !== undefined
        const inTime = (p: PinRow) => {
          if (p.first_seen === null) return false
          const t = Date.parse(p.first_seen)
          return (!since || t >= since.getTime()) && (!beforeT || t < beforeT.getTime())
        }
        const { sort, filter } = await contentFlags(values)
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
        const [{ listPins }, view, { ipfsKitPath, ipfsRepoPath }, { readRepoConfig }] = await Promise.all([
          import('../pins/list.js'),
          import('../pins/content-view.js'),
          import('../config/paths.js'),
          import('../kubo/repo.js'),
        ])
        // A content filter or --sort size needs every pin that passes the pin filters first.
        const everyPin = sort === 'size' || view.hasContentFilter(filter) || timeFilter
        const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
        const content = await view.openContentSource(ipfsKitPath(), repo?.peerId ?? null)
        const rows: PinRow[] = []
        let pending: PinRow[] = []
        const flush = async () => {
          const batch = pending
          pending = []
          const found = await view.contentForPins(content, batch)
          // One write per batch: a write per row was a system call per pin (5 of 18 s at 1M).
          let text = ''
          for (const p of batch) text += `${JSON.stringify(view.sized(p, found.get(p.cid)))}\n`
          if (text !== '') io().out(text)
          await io().drained?.()
        }
        const streaming = (values.ndjson ?? false) && !everyPin
        // --since: the CIDs of the pin events since then, when they say it (since.ts).
        let config: import('../config/config.js').IpfsKitConfig | undefined
        let sinceEvents: { since: Date; retentionMs: number } | undefined
        if (since && !cid && repo) {
          const { loadConfig } = await import('../config/config.js')
          config = await loadConfig()
          const days = Number(config.settings['history.retention_days'].value)
          sinceEvents = { since, retentionMs: days * 86_400_000 }
        }
        // The largest few of all pins (or of one type): from content.parquet's footer (content-view.ts).
        const fast =
          sort === 'size' && !view.hasContentFilter(filter) && !timeFilter && !cid && nameText === undefined
            ? await view.largestPins(content, limit, values.type as PinType | undefined, listPins)
            : null
        const listing =
          fast?.listing ??
          (await listPins({
            query: {
              ...(values.type ? { type: values.type } : {}),
              ...(cid ? { cids: cid.spellings } : {}),
              ...(nameText !== undefined
                ? { name: nameText, nameExact: values['name-exact'] !== undefined }
                : {}),
            },
            limit: everyPin ? 0 : limit,
            stream: streaming,
            // Loaded once: the listing uses the same configuration.
            ...(config ? { config } : {}),
            ...(sinceEvents ? { sinceEvents } : {}),
            onPin: (p) => {
              if (!streaming) {
                rows.push(p)
                return
              }
              // Streamed a thousand at a time, each thousand with its content rows.
              pending.push(p)
              return pending.length >= 1_000 ? flush() : undefined
            },
            onIndexRejected: (reason) =>
              io().err(`ipfs-kit: not using the index: ${reason}; answering from Kubo's RPC API\n`),
          }))
        let out: SizedPin[]
        try {
          if (fast) out = fast.pins
          else if (streaming) {
            await flush()
            out = []
          } else if (everyPin) {
            if (timeFilter && listing.source !== 'index')
              throw new PinSourceUnavailableError(
                `cannot select pins by when they were first seen: Kubo keeps no pin times, and the index is not usable (${listing.index_rejected})`,
                {
                  hint: 'start the daemon with `ipfs-kit daemon start`; it records first_seen for every pin',
                },
              )
            const chosen = timeFilter ? rows.filter(inTime) : rows
            if (sort === 'size' || view.hasContentFilter(filter)) {
              out = await view.filterAndSort(content, chosen, filter, sort, 0)
              listing.total = out.length
              if (limit > 0) out = out.slice(0, limit)
            } else {
              // Only the pins shown need their content rows.
              const shown = limit > 0 ? chosen.slice(0, limit) : chosen
              const found = await view.contentForPins(content, shown)
              out = shown.map((p) => view.sized(p, found.get(p.cid)))
              listing.total = chosen.length
            }
            listing.shown = out.length
          } else {
            const found = await view.contentForPins(content, rows)
            out = rows.map((p) => view.sized(p, found.get(p.cid)))
          }
        } finally {
          await content.close()
        }
        if (content.problem && !everyPin && (rows.length > 0 || streaming))
          io().err(`ipfs-kit: sizes and kinds not shown: ${content.problem}\n`)
        if (listing.stale) {
          io().err(`ipfs-kit: the index is stale: last confirmed ${ageText(listing.checked_at)}\n`)
        }
        if (values.json) {
          io().out(`${JSON.stringify({ ...listing, pins: out })}\n`)
        } else if (values.ndjson) {
          for (const p of out) io().out(`${JSON.stringify(p)}\n`)
        } else {
          io().out(table(out))
          io().err(`${footer(listing)}\n`)
        }
        return 0
      },
    },
    events: {
      usage: 'pin events [--since <t>] [--until <t>] [--cid <cid>] [--limit <n>] [--json]',
      summary:
        'pins added and removed, oldest first: changes through ipfs-kit when Kubo confirmed them, others when an index cycle found them; kept history.retention_days',
      options: [
        '--since <t>       events at or after t: a duration before now (90m, 36h, 7d, 2w) or an ISO time',
        '--until <t>       events before t, the same forms',
        '--cid <cid>       only this CID (v0 and v1 spellings of one CID match)',
        '--limit <n>       the latest n events (default 100; 0 = all)',
        '--json            {"source","since","until","total","events":[{"at","cid","event","type","name","source"}],"refused"}',
        '                  event: added or removed; source: ipfs-kit (a change made through it, timed when Kubo',
        '                  confirmed it) or cycle (found by an index cycle, timed by it: made within one interval before)',
      ],
      async run(args) {
        const { values } = parseFlags('pin events', args, {
          since: { type: 'string' },
          until: { type: 'string' },
          cid: { type: 'string' },
          limit: { type: 'string' },
          ...JSON_FLAG,
        })
        const since = timeOf('pin events', '--since', values.since)
        const until = timeOf('pin events', '--until', values.until)
        if (since && until && since >= until)
          throw new UsageError('pin events: --since must be before --until')
        const limit = parseLimit(values.limit, 'pin events')
        const { parseUserCid } = await import('../pins/cid.js')
        const cid = values.cid !== undefined ? await parseUserCid(values.cid, '--cid') : undefined
        const [{ ipfsKitPath, ipfsRepoPath }, { readRepoConfig }, { readDayLog }] = await Promise.all([
          import('../config/paths.js'),
          import('../kubo/repo.js'),
          import('../store/day-log.js'),
        ])
        const repo = await readRepoConfig(ipfsRepoPath()).catch(() => null)
        if (!repo) {
          io().err(
            `ipfs-kit: pin events: no Kubo repository at ${ipfsRepoPath()} to check the events against\n`,
          )
          return 1
        }
        const read = await readDayLog(ipfsKitPath(), 'pin_events', repo.peerId, {
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
        })
        for (const r of read.refused) io().err(`ipfs-kit: pin events: refused ${r.path}: ${r.reason}\n`)
        let events = cid ? read.rows.filter((r) => cid.spellings.includes(r.cid as string)) : read.rows
        const total = events.length
        if (limit > 0) events = events.slice(-limit)
        if (values.json) {
          io().out(
            `${JSON.stringify({
              source: 'index',
              since: since?.toISOString() ?? null,
              until: until?.toISOString() ?? null,
              total,
              events,
              refused: read.refused,
            })}\n`,
          )
        } else {
          const rows = [
            ['AT', 'EVENT', 'TYPE', 'CID', 'SOURCE', 'NAME'],
            ...events.map((e) => [
              String(e.at),
              String(e.event),
              String(e.type),
              String(e.cid),
              String(e.source),
              String(e.name ?? ''),
            ]),
          ]
          const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? []
          for (const r of rows)
            io().out(
              `${r
                .map((v, i) => v.padEnd(widths[i] as number))
                .join('  ')
                .trimEnd()}\n`,
            )
          io().err(
            `${events.length} of ${total} events shown${read.refused.length ? ` · ${read.refused.length} part(s) refused` : ''}\n`,
          )
        }
        return read.refused.length > 0 && read.parts === 0 ? 1 : 0
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
            if (tty) io().err(`\rfetched ${n} blocks...`)
          },
        })
        if (tty) io().err('\r\x1b[K')
        if (values.json) io().out(`${JSON.stringify(r)}\n`)
        else io().out(`pinned ${r.pins.join(', ') || cid}${values.direct ? ' (direct)' : ''}\n`)
        if (r.refreshProblem) io().err(`ipfs-kit: ${r.refreshProblem}\n`)
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
        if (values.json) io().out(`${JSON.stringify(r)}\n`)
        else io().out(`unpinned ${r.pins.join(', ') || cid}\n`)
        if (r.refreshProblem) io().err(`ipfs-kit: ${r.refreshProblem}\n`)
        return 0
      },
    },
  },
}
export default group
