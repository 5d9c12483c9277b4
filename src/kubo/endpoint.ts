// Which Kubo RPC address and credentials to use, decided once for the CLI, the manager and
// doctor: the Kubo a running manager supervises, else `kubo.api` from the configuration, else
// the address the repository's daemon announced in its `api` file; auth from `kubo.auth`.
import type { IpfsKitConfig } from '../config/config.js'
import { KuboNotRunningError } from '../errors.js'
import { type ApiAddress, parseApiMultiaddr } from './address.js'
import { readApiFile } from './repo.js'

export type EndpointSource = 'manager' | 'config' | 'api file'

export interface KuboEndpoint {
  address: ApiAddress
  source: EndpointSource
  /** Kubo's API.Authorizations secret (`bearer:<token>`, `basic:<user:pass>`), or null. */
  auth: string | null
  timeoutMs: number
}

/** `kubo.api` when the user set it (file, environment or flag); null for the default. */
export function configuredKuboApi(config: IpfsKitConfig): ApiAddress | null {
  const api = config.settings['kubo.api']
  return api.origin !== 'default' && typeof api.value === 'string' ? parseApiMultiaddr(api.value) : null
}

/** `kubo.auth`, or null. */
export function kuboAuth(config: IpfsKitConfig): string | null {
  const auth = config.settings['kubo.auth'].value
  return typeof auth === 'string' ? auth : null
}

/**
 * The endpoint to call, or null when nothing names one (no manager, no `kubo.api`, no api file).
 * `managerApi`: the multiaddr of the Kubo a running manager supervises, when the caller knows it.
 */
export async function findKuboEndpoint(
  config: IpfsKitConfig,
  ipfsPath: string,
  options: { managerApi?: string | null; timeoutMs?: number } = {},
): Promise<KuboEndpoint | null> {
  const timeoutMs = options.timeoutMs ?? Number(config.settings['kubo.timeout_ms'].value)
  const auth = kuboAuth(config)
  if (options.managerApi)
    return { address: parseApiMultiaddr(options.managerApi), source: 'manager', auth, timeoutMs }
  const configured = configuredKuboApi(config)
  if (configured) return { address: configured, source: 'config', auth, timeoutMs }
  const announced = await readApiFile(ipfsPath)
  return announced ? { address: announced, source: 'api file', auth, timeoutMs } : null
}

/** Like findKuboEndpoint, but no endpoint is the error a user can act on. */
export async function requireKuboEndpoint(
  config: IpfsKitConfig,
  ipfsPath: string,
  options: { managerApi?: string | null; timeoutMs?: number } = {},
): Promise<KuboEndpoint> {
  const endpoint = await findKuboEndpoint(config, ipfsPath, options)
  if (!endpoint) {
    throw new KuboNotRunningError(`no Kubo daemon serves ${ipfsPath} (it has no api file)`, {
      hint: 'start one with `ipfs-kit daemon start`, or point IPFS_PATH at the repository your daemon uses',
    })
  }
  return endpoint
}
