// `ipfs-kit doctor [--json]`: prints the doctor's report; exit 0 when everything is usable.

import { CLUSTER_GET_HINT } from '../cluster/binary.js'
import type { CheckStatus, DoctorReport } from '../doctor/doctor.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

function mark(status: CheckStatus): string {
  return status === 'ok' ? 'ok  ' : status === 'warn' ? 'warn' : 'FAIL'
}

function render(r: DoctorReport): string {
  const out: string[] = []
  const section = (
    status: CheckStatus,
    title: string,
    lines: string[],
    check: { problem?: string; fix?: string },
  ) => {
    out.push(`[${mark(status)}] ${title}`)
    for (const l of lines) out.push(`       ${l}`)
    if (check.problem) out.push(`       problem: ${check.problem}`)
    if (check.fix) out.push(`       fix: ${check.fix}`)
  }
  const b = r.kubo_binary
  section(
    b.status,
    'Kubo binary',
    b.path
      ? [`${b.path}`, `version ${b.version}, ${b.reason}`]
      : b.tried.map((t) => `${t.source}: ${t.path ?? '-'}: ${t.problem ?? 'ok'}`),
    b,
  )
  section(
    r.config.status,
    'Configuration',
    [`${r.config.file}${r.config.found ? '' : ' (absent: defaults apply)'}`],
    r.config,
  )
  const repoLines = [r.repo.path]
  if (r.repo.initialised && r.repo.peer_id) {
    repoLines.push(`peer ID ${r.repo.peer_id}, repo version ${r.repo.repo_version ?? 'unknown'}`)
  }
  repoLines.push(
    r.repo.locked_by_pid === undefined
      ? 'lock: cannot be checked on this system'
      : r.repo.locked_by_pid === null
        ? 'lock: free (no Kubo process has the repository open)'
        : `lock: held by pid ${r.repo.locked_by_pid}`,
  )
  section(r.repo.status, 'Kubo repository (IPFS_PATH)', repoLines, r.repo)
  section(
    r.api.status,
    'Kubo RPC API',
    r.api.address
      ? [
          `${r.api.address} (from ${r.api.address_source})`,
          r.api.answers ? `answers: peer ${r.api.peer_id}, Kubo ${r.api.version}` : 'does not answer',
        ]
      : [],
    r.api,
  )
  section(
    r.index.status,
    'Index files (IPFS_KIT_PATH)',
    [
      r.index.path,
      ...r.index.files.map((f) => {
        const detail =
          f.status === 'valid'
            ? `valid, ${f.rows} rows, generated ${f.generated_at}`
            : f.reason
              ? `${f.status}: ${f.reason}`
              : f.status
        return `${f.kind.padEnd(8)} ${detail}`
      }),
    ],
    r.index,
  )
  const c = r.cluster
  section(
    c.status,
    'IPFS Cluster',
    [
      c.enabled ? 'enabled (cluster.enabled)' : 'not enabled (cluster.enabled: false)',
      c.binary
        ? `ipfs-cluster-service ${c.binary_version} at ${c.binary}`
        : `ipfs-cluster-service: ${c.binary_problem}`,
      ...(!c.binary ? [`  ${CLUSTER_GET_HINT}`] : []),
      ...(c.enabled
        ? [
            `REST API ${c.api ?? 'unknown'}: ${c.answers ? `answers: peer ${c.peer_id}, pins on Kubo ${c.ipfs_peer_id ?? 'unknown'}` : 'does not answer'}`,
            `cluster_pins.parquet: ${c.index.status}${c.index.rows !== null ? `, ${c.index.rows} rows` : ''}${c.index.reason ? ` (${c.index.reason})` : ''}`,
          ]
        : []),
    ],
    c,
  )
  out.push('', r.ok ? 'ipfs-kit is usable.' : 'ipfs-kit is not usable yet: see the FAIL lines above.')
  return `${out.join('\n')}\n`
}

const group: CommandGroup = {
  name: 'doctor',
  summary: 'check everything ipfs-kit needs and say what to fix',
  subcommands: {
    '': {
      usage: 'doctor [--json]',
      summary:
        'the Kubo binary and why, the repository, the RPC API, the index files; exit 0 when all is usable',
      options: ['--json            machine-readable output'],
      async run(args) {
        const { values } = parseFlags('doctor', args, JSON_FLAG)
        const { runDoctor } = await import('../doctor/doctor.js')
        const report = await runDoctor()
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report))
        return report.ok ? 0 : 1
      },
    },
  },
}
export default group
