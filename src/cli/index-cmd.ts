// `ipfs-kit index ...`: pause, resume and refresh the manager's background indexing.

import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

async function call(cmd: 'status' | 'index.pause' | 'index.resume' | 'index.refresh', timeoutMs = 10_000) {
  const { ipfsKitPath } = await import('../config/paths.js')
  const { managerFiles } = await import('../manager/files.js')
  const { callControl } = await import('../manager/control.js')
  return callControl(managerFiles(ipfsKitPath()), { cmd }, { timeoutMs })
}

type IndexStatus = import('../indexer/loop.js').IndexStatus
type ContentProgress = import('../indexer/content.js').ContentProgress
type CycleResult = import('../indexer/loop.js').CycleResult

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

function renderIndexStatus(s: IndexStatus, content: ContentProgress | null): string {
  const lines = [
    `index: ${s.running ? 'running' : s.paused ? 'paused' : 'stopped'}${s.cycle_running ? ' (a cycle is running)' : ''}`,
    `  interval:      ${s.interval_s} s${s.stretched_reason ? `, stretched to ${s.effective_interval_s} s: ${s.stretched_reason}` : ''}`,
    `  last updated:  ${s.last_updated ?? 'never'}`,
    `  next cycle:    ${s.next_cycle_at ?? (s.paused ? 'paused' : 'none scheduled')}`,
    `  cycles:        ${s.cycles}${s.last_cycle ? `; the last (#${s.last_cycle.cycle}, ${s.last_cycle.duration_ms} ms) ran because of ${s.last_cycle.reason}` : ''}`,
  ]
  for (const [name, c] of Object.entries(s.collectors)) {
    lines.push(
      `  ${name}: ${c.last_error ? `ERROR ${c.last_error} (${c.consecutive_failures} failures in a row)` : 'ok'}; ` +
        `${c.last_rows ?? '-'} rows, last run ${c.last_run ?? 'never'} (${c.last_duration_ms ?? '-'} ms), last written ${c.last_write ?? 'never'}`,
    )
    if (name === 'pins' && c.last_detail) lines.push(`    ${c.last_detail}`)
  }
  if (content) {
    const eta =
      content.eta_s === 0
        ? 'done'
        : content.eta_s === null
          ? 'time left unknown'
          : `about ${duration(content.eta_s)} left`
    lines.push(
      `  content: ${content.examined} of ${content.total} pins examined${content.rate_per_s !== null ? `, ${content.rate_per_s}/s while examining` : ''}, ${eta}${content.incomplete > 0 ? `; ${content.incomplete} not complete locally` : ''}`,
    )
    // Older managers do not say.
    const rb = content.root_blocks as ContentProgress['root_blocks'] | undefined
    if (rb)
      lines.push(
        rb.from === 'files'
          ? `    root blocks read from Kubo's block files in ${rb.folder}`
          : `    root blocks read through Kubo's RPC API: ${rb.reason}`,
      )
  }
  return `${lines.join('\n')}\n`
}

const group: CommandGroup = {
  name: 'index',
  summary: 'control background indexing in the running manager',
  subcommands: {
    start: {
      usage: 'index start',
      summary: 'resume background indexing',
      async run(args) {
        parseFlags('index start', args, {})
        await call('index.resume')
        io().out('background indexing resumed\n')
        return 0
      },
    },
    stop: {
      usage: 'index stop',
      summary: 'pause background indexing (a cycle in progress finishes; `index refresh` still works)',
      async run(args) {
        parseFlags('index stop', args, {})
        await call('index.pause')
        io().out('background indexing paused\n')
        return 0
      },
    },
    refresh: {
      usage: 'index refresh [--json]',
      summary: 'update the index now and wait until the new files are in place',
      options: ['--json            machine-readable output'],
      async run(args) {
        const { values } = parseFlags('index refresh', args, JSON_FLAG)
        const result = (await call('index.refresh', 30 * 60_000)) as CycleResult
        if (values.json) {
          io().out(`${JSON.stringify(result, null, 2)}\n`)
          return 0
        }
        const parts = Object.entries(result.outcomes).map(([name, o]) =>
          o.ok
            ? `${name}: ${o.rows ?? '-'} rows ${o.wrote ? 'written' : 'unchanged'}`
            : `${name}: ${o.error}`,
        )
        io().out(`index refreshed in ${result.duration_ms} ms (${parts.join('; ')})\n`)
        return 0
      },
    },
    status: {
      usage: 'index status [--json]',
      summary: 'running or paused, interval, last update, errors per collector',
      options: ['--json            machine-readable output'],
      async run(args) {
        const { values } = parseFlags('index status', args, JSON_FLAG)
        const s = (await call('status')) as { index: IndexStatus; content?: ContentProgress | null }
        const content = s.content ?? null
        io().out(
          values.json
            ? `${JSON.stringify({ ...s.index, content }, null, 2)}\n`
            : renderIndexStatus(s.index, content),
        )
        return 0
      },
    },
  },
}
export default group
