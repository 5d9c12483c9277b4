// The effective configuration: defaults, then `config.yaml` in IPFS_KIT_PATH, then the
// environment, then command-line flags, with the origin of every value kept for `config show`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../errors.js'
import { type Env, ipfsKitPath } from './paths.js'

export type Origin = 'default' | 'file' | 'env' | 'flag'

export interface Setting<T> {
  value: T
  origin: Origin
  /** Where exactly: the file and line, or the environment variable / flag name. */
  source?: string
}

type Kind = 'string' | 'positive-number' | 'log-level' | 'boolean'

interface KeySpec {
  kind: Kind
  default: string | number | boolean | null
  env?: string
  secret?: boolean
  describe: string
}

/** Default interval between two index cycles, in seconds (DESIGN.md). */
export const DEFAULT_INTERVAL_S = 30
/** Logs are rotated at this size, and this many old files of each are kept. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024
export const DEFAULT_LOG_KEEP = 3
/** The levels of log lines, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/** Where the manager serves HTTP (metrics, the Pinning Service API, the dashboard) by default: loopback only. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:5080'

/** Where the Kubo RPC proxy listens by default: loopback only. */
export const DEFAULT_PROXY_LISTEN = '127.0.0.1:5095'

/** IPFS Cluster's REST API by default (its own default listen address). */
export const DEFAULT_CLUSTER_API = '/ip4/127.0.0.1/tcp/9094'

/** Default timeout of one unary Kubo RPC call, in milliseconds. */
export const DEFAULT_KUBO_TIMEOUT_MS = 30_000

/** Every key `config.yaml` may hold, dotted, with its default and environment variable. */
export const CONFIG_KEYS = {
  'kubo.binary': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_IPFS_BIN',
    describe: 'the Kubo binary to run (else: npm package kubo, ipfs on PATH, the cached build)',
  },
  'kubo.api': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_KUBO_API',
    describe: "Kubo's RPC address as a multiaddr (else: the api file of IPFS_PATH)",
  },
  'kubo.auth': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_KUBO_AUTH',
    secret: true,
    describe: "credentials for Kubo's API.Authorizations, as 'bearer:<token>' or 'basic:<user>:<password>'",
  },
  'kubo.init_profiles': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_KUBO_INIT_PROFILES',
    describe:
      "Kubo profiles for `ipfs init` when daemon start creates the repository, comma-separated (e.g. 'server')",
  },
  'kubo.timeout_ms': {
    kind: 'positive-number',
    default: DEFAULT_KUBO_TIMEOUT_MS,
    env: 'IPFS_KIT_KUBO_TIMEOUT_MS',
    describe: 'timeout of one Kubo RPC call (for a stream: the longest silence)',
  },
  'kubo.health_interval_s': {
    kind: 'positive-number',
    default: 5,
    env: 'IPFS_KIT_HEALTH_INTERVAL',
    describe:
      'seconds between two health checks of Kubo; three failed checks in a row restart a Kubo ipfs-kit started',
  },
  'index.interval_s': {
    kind: 'positive-number',
    default: DEFAULT_INTERVAL_S,
    env: 'IPFS_KIT_INTERVAL',
    describe: 'seconds between two background index cycles',
  },
  'index.names_every_s': {
    kind: 'positive-number',
    default: 300,
    env: 'IPFS_KIT_NAMES_EVERY_S',
    describe:
      'seconds between two listings of the pins with their names (Kubo lists them 3-4x slower); the cycles between list CIDs only and keep the names known, so a rename with plain `ipfs pin add --name` of a pin already there shows within this time (through ipfs-kit: at once)',
  },
  'index.watch_s': {
    kind: 'positive-number',
    default: 2,
    env: 'IPFS_KIT_WATCH_S',
    describe:
      "seconds between two looks at Kubo's datastore files (sizes and times, no RPC): a change runs a cycle at once instead of at the next interval",
  },
  'index.max_staleness_s': {
    kind: 'positive-number',
    default: 30,
    env: 'IPFS_KIT_MAX_STALENESS_S',
    describe:
      'a cycle lists the pins again at least this often even when the datastore looks unchanged (unless that costs more than index.idle_share)',
  },
  'index.idle_share': {
    kind: 'positive-number',
    default: 0.02,
    env: 'IPFS_KIT_IDLE_SHARE',
    describe:
      'the share of one core that listings may use on a node that does not change: a listing that took c seconds of CPU (manager and Kubo) is repeated no sooner than c / share',
  },
  'index.busy_share': {
    kind: 'positive-number',
    default: 0.5,
    env: 'IPFS_KIT_BUSY_SHARE',
    describe:
      'the share of one core that listings may use on a node that changes: after a listing that took c seconds of CPU, a change runs the next one no sooner than c / share - c later',
  },
  'content.budget_ms': {
    kind: 'positive-number',
    default: 3000,
    env: 'IPFS_KIT_CONTENT_BUDGET_MS',
    describe:
      'milliseconds each index cycle may spend finding out what new pins are (size, kind, MIME type); the rest waits for the next cycle',
  },
  'content.dag_timeout_s': {
    kind: 'positive-number',
    default: 60,
    env: 'IPFS_KIT_CONTENT_DAG_TIMEOUT_S',
    describe: 'the longest one `dag stat` of a pin may take; a larger DAG is recorded with that reason',
  },
  'content.block_files': {
    kind: 'boolean',
    default: true,
    env: 'IPFS_KIT_CONTENT_BLOCK_FILES',
    describe:
      "read each pin's root block from Kubo's flatfs folder, checked against its CID's hash, rather than through Kubo's RPC API (where Kubo's repository is on this machine and keeps its blocks in flatfs, Kubo's default): the same bytes, and examining a pin costs Kubo about half the CPU",
  },
  'peers.bw_per_cycle': {
    kind: 'positive-number',
    default: 100,
    env: 'IPFS_KIT_PEERS_BW_PER_CYCLE',
    describe:
      "peers whose bandwidth is asked each cycle (Kubo's stats/bw answers one peer per call); the others keep their last figure, dated",
  },
  'history.retention_days': {
    kind: 'positive-number',
    default: 30,
    env: 'IPFS_KIT_HISTORY_RETENTION_DAYS',
    describe:
      'days the state history and the pin events are kept (a fraction of a day is allowed); older rows are removed each cycle',
  },
  'http.listen': {
    kind: 'string',
    default: DEFAULT_HTTP_LISTEN,
    env: 'IPFS_KIT_HTTP_LISTEN',
    describe:
      "host:port of the manager's HTTP listener (metrics, Pinning Service API, dashboard); port 0 picks a free port; 'off' serves nothing",
  },
  'http.allow_remote': {
    kind: 'boolean',
    default: false,
    env: 'IPFS_KIT_HTTP_ALLOW_REMOTE',
    describe:
      'allow http.listen on an address other than loopback (every request still needs the token of run/http.token)',
  },
  'proxy.listen': {
    kind: 'string',
    default: DEFAULT_PROXY_LISTEN,
    env: 'IPFS_KIT_PROXY_LISTEN',
    describe:
      "host:port of the Kubo RPC proxy (use it as `ipfs --api /ip4/<host>/tcp/<port>`): it forwards every call to Kubo unchanged and records the pin changes Kubo confirms at once; port 0 picks a free port; 'off' for none",
  },
  'proxy.allow_remote': {
    kind: 'boolean',
    default: false,
    env: 'IPFS_KIT_PROXY_ALLOW_REMOTE',
    describe:
      "allow proxy.listen on an address other than loopback (Kubo's own API authorization still applies to every call)",
  },
  'pinning.concurrency': {
    kind: 'positive-number',
    default: 4,
    env: 'IPFS_KIT_PINNING_CONCURRENCY',
    describe: 'how many pin requests of the Pinning Service API Kubo works on at once; the rest are queued',
  },
  'cluster.enabled': {
    kind: 'boolean',
    default: false,
    env: 'IPFS_KIT_CLUSTER_ENABLED',
    describe:
      'run beside an IPFS Cluster peer: daemon start starts it after Kubo (or attaches to the one at cluster.api), supervises it, and indexes the cluster pinset each cycle',
  },
  'cluster.binary': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_CLUSTER_BIN',
    describe: 'the ipfs-cluster-service binary to run (else: the first on PATH)',
  },
  'cluster.api': {
    kind: 'string',
    default: DEFAULT_CLUSTER_API,
    env: 'IPFS_KIT_CLUSTER_API',
    describe:
      "the Cluster peer's REST API as a multiaddr (its service.json api.restapi.http_listen_multiaddress)",
  },
  'cluster.auth': {
    kind: 'string',
    default: null,
    env: 'IPFS_KIT_CLUSTER_AUTH',
    secret: true,
    describe:
      "credentials for Cluster's REST API, as 'basic:<user>:<password>' (its basic_auth_credentials) or 'bearer:<token>'",
  },
  'cluster.status_timeout_s': {
    kind: 'positive-number',
    default: 60,
    env: 'IPFS_KIT_CLUSTER_STATUS_TIMEOUT_S',
    describe:
      "the longest silence allowed in Cluster's /pins stream (it asks every peer for the status of every pin); past it, each pin keeps the status last seen, dated",
  },
  'log.level': {
    kind: 'log-level',
    default: 'info',
    env: 'IPFS_KIT_LOG_LEVEL',
    describe: "the least severe lines logs/manager.log keeps: 'debug', 'info', 'warn' or 'error'",
  },
  'log.max_bytes': {
    kind: 'positive-number',
    default: DEFAULT_LOG_MAX_BYTES,
    env: 'IPFS_KIT_LOG_MAX_BYTES',
    describe: 'size at which manager.log and kubo.log are rotated (to .1, .2, ...)',
  },
  'log.keep': {
    kind: 'positive-number',
    default: DEFAULT_LOG_KEEP,
    env: 'IPFS_KIT_LOG_KEEP',
    describe: 'how many rotated files of each log are kept',
  },
} as const satisfies Record<string, KeySpec>

export type ConfigKey = keyof typeof CONFIG_KEYS

export interface IpfsKitConfig {
  path: string
  file: string
  fileFound: boolean
  settings: { [K in ConfigKey]: Setting<string | number | boolean | null> }
}

export const CONFIG_FILE_NAME = 'config.yaml'

function coerce(key: ConfigKey, raw: unknown, where: string): string | number | boolean {
  const spec: KeySpec = CONFIG_KEYS[key]
  if (spec.kind === 'boolean') {
    if (raw === true || raw === 'true') return true
    if (raw === false || raw === 'false') return false
    throw new ConfigError(`${where}: ${key} must be true or false, got ${JSON.stringify(raw)}`)
  }
  if (spec.kind === 'string') {
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw new ConfigError(`${where}: ${key} must be a non-empty string, got ${JSON.stringify(raw)}`)
    }
    return raw
  }
  if (spec.kind === 'log-level') {
    if (typeof raw !== 'string' || !(LOG_LEVELS as readonly string[]).includes(raw)) {
      throw new ConfigError(
        `${where}: ${key} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`,
      )
    }
    return raw
  }
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`${where}: ${key} must be a positive number, got ${JSON.stringify(raw)}`)
  }
  return n
}

/** Reads `config.yaml` (if present) and returns its dotted keys with their line numbers. */
async function readConfigFile(file: string): Promise<Map<ConfigKey, { raw: unknown; line: number }> | null> {
  let text: string
  try {
    // Synchronously, like the other small files a CLI query reads (see readRepoConfig).
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`)
  }
  // The YAML parser is only needed when a config file exists; keep it off the common start path.
  const { LineCounter, parseDocument, isMap, isScalar, isPair } = await import('yaml')
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const line = e?.linePos?.[0]?.line
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${e?.message.split('\n')[0]}`)
  }
  const out = new Map<ConfigKey, { raw: unknown; line: number }>()
  if (doc.contents === null) return out
  if (!isMap(doc.contents)) throw new ConfigError(`${file}: expected a mapping of sections (kubo:, index:)`)
  const lineOf = (node: { range?: [number, number, number] | null | undefined } | null | undefined) =>
    node?.range ? lines.linePos(node.range[0]).line : 0
  for (const section of doc.contents.items) {
    if (!isPair(section) || !isScalar(section.key)) continue
    const sectionName = String(section.key.value)
    if (!isMap(section.value)) {
      throw new ConfigError(
        `${file}:${lineOf(section.key)}: '${sectionName}' must be a section with keys, like 'kubo:' with indented keys under it`,
      )
    }
    for (const item of section.value.items) {
      if (!isPair(item) || !isScalar(item.key)) continue
      const key = `${sectionName}.${String(item.key.value)}`
      const line = lineOf(item.key)
      if (!(key in CONFIG_KEYS)) {
        throw new ConfigError(
          `${file}:${line}: unknown key '${key}'; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}`,
        )
      }
      const value = isScalar(item.value) ? item.value.value : item.value?.toJSON()
      out.set(key as ConfigKey, { raw: value, line })
    }
  }
  return out
}

/**
 * The effective configuration. `flags` are values given on the command line for this run,
 * already keyed by config key (for example `{ 'index.interval_s': '5' }` from `--interval 5`).
 */
export async function loadConfig(
  options: { env?: Env; flags?: Partial<Record<ConfigKey, { value: unknown; flag: string }>> } = {},
): Promise<IpfsKitConfig> {
  const env = options.env ?? process.env
  const path = ipfsKitPath(env)
  const file = join(path, CONFIG_FILE_NAME)
  const fromFile = await readConfigFile(file)
  const settings = {} as IpfsKitConfig['settings']
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const spec: KeySpec = CONFIG_KEYS[key]
    let setting: Setting<string | number | boolean | null> = { value: spec.default, origin: 'default' }
    const inFile = fromFile?.get(key)
    if (inFile) {
      const where = `${file}:${inFile.line}`
      setting = { value: coerce(key, inFile.raw, where), origin: 'file', source: where }
    }
    const envValue = spec.env ? env[spec.env] : undefined
    if (spec.env && envValue !== undefined && envValue !== '') {
      setting = {
        value: coerce(key, envValue, `environment variable ${spec.env}`),
        origin: 'env',
        source: spec.env,
      }
    }
    const flag = options.flags?.[key]
    if (flag) setting = { value: coerce(key, flag.value, flag.flag), origin: 'flag', source: flag.flag }
    settings[key] = setting
  }
  return { path, file, fileFound: fromFile !== null, settings }
}

/** A setting's value for display: secrets are masked. */
export function displayValue(
  key: ConfigKey,
  value: string | number | boolean | null,
): string | number | boolean | null {
  const spec: KeySpec = CONFIG_KEYS[key]
  if (value === null || !spec.secret) return value
  const text = String(value)
  const scheme = text.includes(':') ? `${text.slice(0, text.indexOf(':'))}:` : ''
  return `${scheme}***`
}
