// `ipfs-kit daemon ...`: the manager's life (start, attach, stop), its status and its logs.

import { UsageError } from '../errors.js'
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'
import { io } from './io.js'

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

/** A listen address the manager would refuse is refused here, before anything starts (exit 2). */
async function checkHttpListen(): Promise<void> {
  const [{ loadConfig }, { parseListen }] = await Promise.all([
    import('../config/config.js'),
    import('../http/listen.js'),
  ])
  const config = await loadConfig()
  parseListen(String(config.settings['http.listen'].value), {
    allowRemote: config.settings['http.allow_remote'].value === true,
  })
  parseListen(String(config.settings['proxy.listen'].value), {
    key: 'proxy.listen',
    allowRemote: config.settings['proxy.allow_remote'].value === true,
  })
  if (config.settings['cluster.enabled'].value === true) {
    const { clusterApiAddress } = await import('../cluster/config.js')
    clusterApiAddress(config)
  }
}

async function startBackground(args: string[]): Promise<number> {
  const files = await context()
  const { startDetached } = await import('../manager/client.js')
  const st = await startDetached(files, { args, onProgress: (m) => io().err(`${m}...\n`) })
  const pins = st.index.collectors.pins
  io().out(
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
  for (const line of r.cleaned) io().err(`${line}\n`)
  if (r.stoppedPid !== null) io().out(`ipfs-kit daemon stopped (pid ${r.stoppedPid})\n`)
  else io().out('ipfs-kit daemon was not running\n')
  return 0
}

const SERVICE_FLAGS = {
  system: { type: 'boolean' },
  name: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
} as const

async function serviceOptions(values: { system?: boolean; name?: string; dir?: string }, command: string) {
  const { checkUnitName } = await import('../manager/service-unit.js')
  const name = values.name ?? 'ipfs-kit'
  const bad = checkUnitName(name)
  if (bad) throw new UsageError(`${command}: --name ${JSON.stringify(name.slice(0, 60))} ${bad}`)
  if (values.dir !== undefined && values.dir.trim() === '')
    throw new UsageError(`${command}: --dir needs a folder`)
  return {
    scope: values.system ? ('system' as const) : ('user' as const),
    name,
    ...(values.dir !== undefined ? { dir: values.dir } : {}),
    env: process.env,
  }
}

/** Environment the manager gets in the unit: ipfs-kit's own settings, never a secret. */
function serviceEnvironment(): { environment: Record<string, string>; leftOut: string[] } {
  const environment: Record<string, string> = {}
  const leftOut: string[] = []
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || !key.startsWith('IPFS_KIT_')) continue
    if (key === 'IPFS_KIT_PATH' || key === 'IPFS_KIT_DETACHED' || key.startsWith('IPFS_KIT_TEST_')) continue
    if (key === 'IPFS_KIT_KUBO_AUTH') {
      leftOut.push(key)
      continue
    }
    environment[key] = value
  }
  // So that the manager finds `ipfs` on PATH as this shell would.
  if (process.env.PATH) environment.PATH = process.env.PATH
  return { environment, leftOut }
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
        await checkHttpListen()
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
        const [{ daemonStatus }, { renderDaemonStatus }] = await Promise.all([
          import('../status/daemon-status.js'),
          import('./daemon-status.js'),
        ])
        const report = await daemonStatus()
        io().out(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDaemonStatus(report))
        return report.manager.running ? 0 : 1
      },
    },
    'install-service': {
      usage:
        'daemon install-service [--system] [--name <unit>] [--dir <folder>] [--interval <s>] [--offline] [--enable] [--force] [--json]',
      summary:
        'write a systemd unit that runs the daemon at boot (a user unit, or with --system a system unit), from the paths in use now',
      options: [
        '--system          a system unit (/etc/systemd/system) instead of a user unit (~/.config/systemd/user)',
        '--name <unit>     the unit name (default ipfs-kit); one per IPFS_KIT_PATH',
        '--dir <folder>    write the unit into this folder instead',
        '--interval <s>    as for start; --offline too',
        '--enable          also run systemctl daemon-reload and enable --now',
        '--force           replace a unit of that name that ipfs-kit did not write',
        '--json            machine-readable output',
      ],
      async run(args) {
        const { values } = parseFlags('daemon install-service', args, {
          ...SERVICE_FLAGS,
          interval: START_FLAGS.interval,
          offline: START_FLAGS.offline,
          enable: { type: 'boolean' },
          force: { type: 'boolean' },
        })
        checkInterval(values.interval)
        const options = await serviceOptions(values, 'daemon install-service')
        const [{ installService, serviceUser }, { cliMain }, paths] = await Promise.all([
          import('../manager/service-unit.js'),
          import('../manager/client.js'),
          import('../config/paths.js'),
        ])
        const { environment, leftOut } = serviceEnvironment()
        const result = await installService({
          ...options,
          force: values.force ?? false,
          enable: values.enable ?? false,
          spec: {
            node: process.execPath,
            script: cliMain(),
            kitPath: paths.ipfsKitPath(),
            ipfsPath: paths.ipfsRepoPath(),
            environment,
            args: startArgs(values),
            user: options.scope === 'system' ? serviceUser() : null,
          },
        })
        for (const key of leftOut)
          io().err(
            `ipfs-kit: ${key} is not written into the unit (others may read it); put kubo.auth in ${paths.ipfsKitPath()}/config.yaml\n`,
          )
        if (values.json) {
          io().out(`${JSON.stringify({ ...result, left_out: leftOut }, null, 2)}\n`)
          return 0
        }
        io().out(
          [
            `${result.replaced ? 'replaced' : 'wrote'} ${result.path}`,
            ...(values.enable
              ? [`enabled and started ${result.name}`]
              : ['next:', ...result.next.map((c) => `  ${c}`)]),
            '',
          ].join('\n'),
        )
        return 0
      },
    },
    'uninstall-service': {
      usage: 'daemon uninstall-service [--system] [--name <unit>] [--dir <folder>] [--json]',
      summary: 'stop, disable and remove the systemd unit that install-service wrote',
      options: [
        '--system          the system unit instead of the user unit',
        '--name <unit>     the unit name (default ipfs-kit)',
        '--dir <folder>    the folder it was written to with --dir',
        '--json            machine-readable output',
      ],
      async run(args) {
        const { values } = parseFlags('daemon uninstall-service', args, SERVICE_FLAGS)
        const options = await serviceOptions(values, 'daemon uninstall-service')
        const { uninstallService } = await import('../manager/service-unit.js')
        const result = await uninstallService(options)
        if (values.json) {
          io().out(`${JSON.stringify(result, null, 2)}\n`)
          return 0
        }
        if (!result.removed) io().out(`no unit at ${result.path}; nothing to remove\n`)
        else {
          for (const c of result.systemctl.filter((c) => !c.ok))
            io().err(`ipfs-kit: \`${c.args.join(' ')}\` failed: ${c.output.split('\n')[0]}\n`)
          io().out(`removed ${result.path}\n`)
        }
        return 0
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
