// The Kubo RPC client the CLI uses: the configured address (kubo.api) or the one the daemon of
// IPFS_PATH announced in its api file, with the configured credentials and timeout.
import type { IpfsKitConfig } from '../config/config.js'
import { type ApiAddress, parseApiMultiaddr } from './address.js'
import { requireApiAddress } from './repo.js'
import { KuboRpc } from './rpc.js'

export async function kuboApiAddress(config: IpfsKitConfig, ipfsPath: string): Promise<ApiAddress> {
  const api = config.settings['kubo.api']
  if (api.origin !== 'default' && typeof api.value === 'string') return parseApiMultiaddr(api.value)
  return requireApiAddress(ipfsPath)
}

export async function connectKubo(
  config: IpfsKitConfig,
  ipfsPath: string,
  timeoutMs?: number,
): Promise<KuboRpc> {
  const auth = config.settings['kubo.auth'].value
  return new KuboRpc({
    address: await kuboApiAddress(config, ipfsPath),
    auth: typeof auth === 'string' ? auth : null,
    timeoutMs: timeoutMs ?? Number(config.settings['kubo.timeout_ms'].value),
  })
}
