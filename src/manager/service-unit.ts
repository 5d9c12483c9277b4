// A systemd unit that runs the manager (`daemon start --foreground`) so that it survives a
// reboot: written from the real paths of this installation (node, the ipfs-kit launcher,
// IPFS_KIT_PATH, IPFS_PATH), as a user unit or a system unit, and removed again. The unit stops
// the manager with SIGTERM only (KillMode=mixed): the manager stops the Kubo it started, in order.
import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { homedir, userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import type { Env } from '../config/paths.js'
import { ServiceUnitError } from '../errors.js'
import { writeTextAtomic } from '../store/atomic.js'
import { MANAGER_NODE_FLAGS } from './node-flags.js'

/** The first line of every unit ipfs-kit writes: uninstall and a second install look for it. */
export const UNIT_MARKER =
  '# Written by `ipfs-kit daemon install-service`; remove with `ipfs-kit daemon uninstall-service`.'

export type ServiceScope = 'user' | 'system'

export interface ServiceOptions {
  scope: ServiceScope
  /** Unit name without `.service`. */
  name: string
  /** The folder for the unit file; default: the scope's usual one. */
  dir?: string
  env: Env
}

export interface UnitSpec {
  node: string
  /** The script node runs: the ipfs-kit launcher. */
  script: string
  kitPath: string
  ipfsPath: string
  /** More environment for the manager (the Kubo binary, PATH for finding `ipfs`). */
  environment: Record<string, string>
  /** Extra `daemon start` arguments (--interval, --offline). */
  args: string[]
  /** For a system unit of a user other than root: who the manager runs as. */
  user: { name: string; group: string | null } | null
  scope: ServiceScope
}

/** Who a system unit runs the manager as: this user, unless it is root (then no User= line). */
export function serviceUser(): { name: string; group: string | null } | null {
  const me = userInfo()
  return me.uid === 0 ? null : { name: me.username, group: null }
}

export function unitDir(scope: ServiceScope, env: Env): string {
  if (scope === 'system') return '/etc/systemd/system'
  const config =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== ''
      ? env.XDG_CONFIG_HOME
      : join(homedir(), '.config')
  return join(resolve(config), 'systemd', 'user')
}

export function unitPath(options: ServiceOptions): string {
  return join(
    options.dir ? resolve(options.dir) : unitDir(options.scope, options.env),
    `${options.name}.service`,
  )
}

/** A unit name systemd takes: letters, digits and `:-_.@`, not empty, no `.service` suffix. */
export function checkUnitName(name: string): string | null {
  if (!/^[A-Za-z0-9:_.@-]{1,200}$/.test(name)) return 'may hold only letters, digits and :-_.@'
  if (name.endsWith('.service')) return 'is given without .service'
  return null
}

/** One word of ExecStart, quoted for systemd (and `%` kept from becoming a specifier). */
function execWord(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')
  return /^[A-Za-z0-9/_.,:=+@-]+$/.test(word) ? escaped : `"${escaped}"`
}

/** One `Environment=` line, quoted, so that a value with spaces or quotes stays one value. */
function environmentLine(key: string, value: string): string {
  const escaped = `${key}=${value}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')
  return `Environment="${escaped}"`
}

export function renderUnit(spec: UnitSpec): string {
  const env: Record<string, string> = {
    IPFS_KIT_PATH: spec.kitPath,
    IPFS_PATH: spec.ipfsPath,
    ...spec.environment,
  }
  for (const [k, v] of Object.entries(env)) {
    if (/[\n\r]/.test(k) || /[\n\r]/.test(v))
      throw new ServiceUnitError(`${k} holds a line break; it cannot go into a unit file`)
  }
  const command = [
    spec.node,
    ...MANAGER_NODE_FLAGS,
    spec.script,
    'daemon',
    'start',
    '--foreground',
    ...spec.args,
  ]
  const lines = [
    UNIT_MARKER,
    '[Unit]',
    `Description=ipfs-kit: runs Kubo (IPFS) and keeps its index (${spec.kitPath.replace(/%/g, '%%')})`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${command.map(execWord).join(' ')}`,
    ...Object.entries(env).map(([k, v]) => environmentLine(k, v)),
    ...(spec.user
      ? [`User=${spec.user.name}`, ...(spec.user.group ? [`Group=${spec.user.group}`] : [])]
      : []),
    // SIGTERM to the manager alone: it stops the Kubo it started, in order (SIGKILL to all after the timeout).
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=120',
    'Restart=on-failure',
    'RestartSec=5',
    '',
    '[Install]',
    `WantedBy=${spec.scope === 'user' ? 'default.target' : 'multi-user.target'}`,
    '',
  ]
  return lines.join('\n')
}

export interface InstallResult {
  path: string
  scope: ServiceScope
  name: string
  /** The unit replaced one ipfs-kit had written before. */
  replaced: boolean
  /** What to run next (or what was run, with enable). */
  next: string[]
  /** systemctl's answers, when it was run. */
  systemctl: Array<{ args: string[]; ok: boolean; output: string }>
}

async function readUnit(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

function systemctl(
  scope: ServiceScope,
  args: string[],
): Promise<{ args: string[]; ok: boolean; output: string }> {
  const full = scope === 'user' ? ['--user', ...args] : args
  return new Promise((resolveRun) => {
    execFile('systemctl', full, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolveRun({
        args: ['systemctl', ...full],
        ok: !err,
        output: `${stdout}${stderr}`.trim() || (err ? err.message : ''),
      })
    })
  })
}

function commandsFor(scope: ServiceScope, name: string): string[] {
  const ctl = scope === 'user' ? 'systemctl --user' : 'systemctl'
  const next = [`${ctl} daemon-reload`, `${ctl} enable --now ${name}`]
  if (scope === 'user')
    next.push(`loginctl enable-linger ${userInfo().username}   # start at boot, before you log in`)
  return next
}

export async function installService(
  options: ServiceOptions & { spec: Omit<UnitSpec, 'scope'>; force: boolean; enable: boolean },
): Promise<InstallResult> {
  const path = unitPath(options)
  const existing = await readUnit(path)
  if (existing !== null && !existing.startsWith(UNIT_MARKER) && !options.force) {
    throw new ServiceUnitError(`${path} exists and was not written by ipfs-kit; it is left alone`, {
      hint: 'choose another name with --name, or replace it with --force',
    })
  }
  await writeTextAtomic(path, renderUnit({ ...options.spec, scope: options.scope }), 0o644)
  const result: InstallResult = {
    path,
    scope: options.scope,
    name: options.name,
    replaced: existing !== null,
    next: commandsFor(options.scope, options.name),
    systemctl: [],
  }
  if (options.enable) {
    result.systemctl.push(await systemctl(options.scope, ['daemon-reload']))
    if (result.systemctl[0]?.ok)
      result.systemctl.push(await systemctl(options.scope, ['enable', '--now', options.name]))
    const failed = result.systemctl.find((r) => !r.ok)
    if (failed) {
      throw new ServiceUnitError(`wrote ${path}, but \`${failed.args.join(' ')}\` failed: ${failed.output}`, {
        hint: `run the commands yourself once systemd can take them: ${result.next.slice(0, 2).join('; ')}`,
      })
    }
  }
  return result
}

export interface UninstallResult {
  path: string
  removed: boolean
  systemctl: Array<{ args: string[]; ok: boolean; output: string }>
}

export async function uninstallService(options: ServiceOptions): Promise<UninstallResult> {
  const path = unitPath(options)
  const existing = await readUnit(path)
  if (existing === null) return { path, removed: false, systemctl: [] }
  if (!existing.startsWith(UNIT_MARKER)) {
    throw new ServiceUnitError(`${path} was not written by ipfs-kit; it is left alone`)
  }
  // Stop and disable it first where systemd runs; where it does not, there is nothing to stop.
  const calls = [await systemctl(options.scope, ['disable', '--now', options.name])]
  await rm(path, { force: true })
  calls.push(await systemctl(options.scope, ['daemon-reload']))
  return { path, removed: true, systemctl: calls }
}
