// `ipfs-kit storage report`: what uses the repository, from the index (status/storage-report.ts).

import type { StorageReport } from '../status/storage-report.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import { humanBytes } from './format.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

function render(s: StorageReport): string {
  const figure = (n: number | null, key: string) =>
    n === null ? `unknown (${s.reasons[key] ?? 'not known'})` : humanBytes(n)
  const share =
    s.repo_size_bytes !== null && s.storage_max_bytes
      ? ` (${((s.repo_size_bytes / s.storage_max_bytes) * 100).toFixed(1)}% of the limit)`
      : ''
  const rate = (n: number | null, key: string, per: string) =>
    n === null
      ? `unknown (${s.reasons[key] ?? 'not known'})`
      : `${n < 0 ? '-' : ''}${humanBytes(Math.abs(n))} ${per}`
  const lines = [
    `repository:   ${figure(s.repo_size_bytes, 'repo_size_bytes')} of ${figure(s.storage_max_bytes, 'storage_max_bytes')}${share}`,
    `pinned:       ${figure(s.pinned_bytes, 'pinned_bytes')}${s.shared_bytes ? `, of which ${humanBytes(s.shared_bytes)} shared by several pins (counted once)` : ''}`,
    `not pinned:   ${figure(s.unpinned_bytes, 'unpinned_bytes')}`,
    `pins:         ${s.pins ?? 'unknown'}${s.pins_examined !== null ? `, ${s.pins_examined} examined` : ''}${s.incomplete_pins ? `, ${s.incomplete_pins} not complete on this node` : ''}`,
    `growth:       ${rate(s.growth_bytes_per_day, 'growth_bytes_per_day', 'a day')}; ${rate(s.growth_bytes_per_week, 'growth_bytes_per_week', 'a week')}`,
    `full in:      ${s.days_until_full === null ? `unknown (${s.reasons.days_until_full})` : `${s.days_until_full} days at that rate`}`,
    `last day:     ${s.pins_added_last_day === null ? `unknown (${s.reasons.pins_added_last_day})` : `${s.pins_added_last_day} pins added`}${s.pins_added_last_day ? `, ${s.pins_added_last_day_bytes === null ? `size unknown (${s.reasons.pins_added_last_day_bytes})` : humanBytes(s.pins_added_last_day_bytes)}` : ''}`,
  ]
  if (s.largest.length > 0) {
    lines.push('', 'largest pins:')
    const w = Math.max(...s.largest.map((l) => l.cid.length))
    for (const l of s.largest)
      lines.push(
        // No trailing spaces where a pin has no name.
        `  ${l.cid.padEnd(w)}  ${humanBytes(l.size).padStart(10)}  ${(l.kind ?? '-').padEnd(14)}  ${l.name ?? ''}`.trimEnd(),
      )
  }
  if (s.incomplete.length > 0) {
    lines.push('', 'incomplete pins (some blocks are not on this node):')
    for (const i of s.incomplete) lines.push(`  ${i.cid}${i.problem ? `  ${i.problem}` : ''}`)
  }
  for (const p of s.problems) lines.push(`! ${p}`)
  return `${lines.join('\n')}\n`
}

const group: CommandGroup = {
  name: 'storage',
  summary: 'what uses the repository',
  subcommands: {
    report: {
      usage: 'storage report [--json]',
      summary:
        'repository size and limit, bytes pinned (shared blocks once), the largest and the incomplete pins',
      options: [
        '--json            {"repo_size_bytes","storage_max_bytes","pinned_bytes","shared_bytes","unpinned_bytes","largest","incomplete_pins","growth_bytes_per_day","growth_bytes_per_week","days_until_full","growth_basis","pins_added_last_day","pins_added_last_day_bytes","reasons",...}',
      ],
      async run(args) {
        const { values } = parseFlags('storage report', args, JSON_FLAG)
        const [{ storageReport }, { ipfsKitPath, ipfsRepoPath }] = await Promise.all([
          import('../status/storage-report.js'),
          import('../config/paths.js'),
        ])
        const report = await storageReport(ipfsKitPath(), ipfsRepoPath())
        io().out(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report))
        return report.source === null ? 1 : 0
      },
    },
  },
}
export default group
