// `ipfs-kit daemon ...`: the manager's life (start, attach, stop), its status and its logs.
import { UsageError } from '../errors.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

async function context() {
  const { ipfsKitPath } = await import('../config/paths.js')
  const { managerFiles } = await import('../manager/files.js')
  return managerFiles(ipfsKitPath())
}

const START_FLAGS = {
  foreground: { type: 'boolean' },
  interval: { type: 'string' },
  offline: { type: 'boolean' },
} as const

function startArgs(values: { interval?: string | undefined; offline?: boolean | undefined }): string[] {
  const args: string[] = []
  if (values.interval !== undefined) args.push('--interval', values.interval)
  if (values.offline) args.push('--offline')
  return args
}

function checkInterval(interval: string | undefined): void {
  if (interval === undefined) return
  const n = Number(interval)
  if (interval.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `daemon start: --interval must be a positive number of seconds, got ${JSON.stringify(interval)}`,
    )
  }
}

async function startBackground(args: string[]): Promise<number> {
  const files = await context()
  const { startDetached } = await import('../manager/client.js')
  const st = await startDetached(files, { args, onProgress: (m) => process.stderr.write(`${m}...\n`) })
  const pins = st.index.collectors.pins
  process.stdout.write(
    [
      `ipfs-kit daemon ready (manager pid ${st.manager.pid})`,
      `  peer ID:   ${st.kubo.peer_id}`,
      `  Kubo:      ${st.kubo.version}, ${st.kubo.mode === 'attached' ? 'attached (not managed)' : `started (pid ${st.kubo.pid})`}`,
      `  RPC API:   ${st.kubo.api_address}`,
      `  index:     ${st.manager.ipfs_kit_path} (${pins?.last_rows ?? 0} pins, every ${st.index.interval_s} s)`,
      '',
    ].join('\n'),
  )
  return 0
}

async function stop(): Promise<number> {
  const files = await context()
  const { stopManager } = await import('../manager/client.js')
  const r = await stopManager(files)
  for (const line of r.cleaned) process.stderr.write(`${line}\n`)
  if (r.stoppedPid !== null) process.stdout.write(`ipfs-kit daemon stopped (pid ${r.stoppedPid})\n`)
  else process.stdout.write('ipfs-kit daemon was not running\n')
  return 0
}

const group: CommandGroup = {
  name: 'daemon',
  summary: 'run the manager that supervises Kubo and keeps the index current',
  subcommands: {
    start: {
      usage: 'daemon start [--foreground] [--interval <s>] [--offline]',
      summary:
        'start Kubo (or attach to a running one) and background indexing; returns once the first index is written',
      options: [
        '--foreground      stay in the foreground (logs on stderr; Ctrl-C stops)',
        '--interval <s>    seconds between index cycles (default 30; config index.interval_s)',
        '--offline         run Kubo without network (online-only state is null)',
      ],
      async run(args) {
        const { values } = parseFlags('daemon start', args, START_FLAGS)
        checkInterval(values.interval)
        if (!values.foreground) return startBackground(startArgs(values))
        const { runManager } = await import('../manager/manager.js')
        return runManager({
          ...(values.interval !== undefined
            ? { flags: { 'index.interval_s': { value: values.interval, flag: '--interval' } } }
            : {}),
          offline: values.offline ?? false,
          logToStderr: process.env.IPFS_KIT_DETACHED !== '1',
        })
      },
    },
    stop: {
      usage: 'daemon stop',
      summary:
        'stop indexing (a write in progress finishes) and the Kubo the manager started; an attached Kubo keeps running',
      async run(args) {
        parseFlags('daemon stop', args, {})
        return stop()
      },
    },
    restart: {
      usage: 'daemon restart [--interval <s>] [--offline]',
      summary: 'stop, then start in the background',
      options: ['--interval <s>    as for start', '--offline         as for start'],
      async run(args) {
        const { values } = parseFlags('daemon restart', args, {
          interval: START_FLAGS.interval,
          offline: START_FLAGS.offline,
        })
        checkInterval(values.interval)
        await stop()
        return startBackground(startArgs(values))
      },
    },
    status: {
      usage: 'daemon status [--json]',
      summary:
        'manager, Kubo, index, network and storage at a glance; exit 1 when the manager is not running',
      options: ['--json            machine-readable output'],
      async run(args) {
        const { values } = parseFlags('daemon status', args, JSON_FLAG)
        const { daemonStatus, renderDaemonStatus } = await import('./daemon-status.js')
        const report = await daemonStatus()
        process.stdout.write(
          values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDaemonStatus(report),
        )
        return report.manager.running ? 0 : 1
      },
    },
    logs: {
      usage: 'daemon logs [-f] [--kubo] [--json] [-n <lines>]',
      summary: "the manager's log (or Kubo's own output with --kubo)",
      options: [
        '-f, --follow      keep printing new lines',
        "--kubo            Kubo's own output instead of the manager's log",
        '--json            the raw JSON lines',
        '-n <lines>        how many of the last lines to print first (default 50)',
      ],
      async run(args) {
        const { values } = parseFlags('daemon logs', args, {
          follow: { type: 'boolean', short: 'f' },
          kubo: { type: 'boolean' },
          json: { type: 'boolean' },
          n: { type: 'string', short: 'n' },
        })
        const lines = values.n === undefined ? 50 : Number(values.n)
        if (!Number.isInteger(lines) || lines < 0) {
          throw new UsageError(
            `daemon logs: -n must be a whole number of lines, got ${JSON.stringify(values.n)}`,
          )
        }
        const files = await context()
        const { printLogs } = await import('./daemon-logs.js')
        return printLogs(values.kubo ? files.kuboLog : files.managerLog, {
          follow: values.follow ?? false,
          raw: (values.json ?? false) || (values.kubo ?? false),
          lines,
        })
      },
    },
  },
}
export default group
