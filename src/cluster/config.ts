// The Cluster settings as the manager and the CLI use them: cluster.api parsed (a bad one is a
// ConfigError, exit 2, before anything starts) and a REST client made from it.
import type { IpfsKitConfig } from '../config/config.js'
import { ConfigError } from '../errors.js'
import { type ApiAddress, parseApiMultiaddr } from '../kubo/address.js'
import { ClusterRest } from './rest.js'

export function clusterApiAddress(config: IpfsKitConfig): ApiAddress {
  const api = config.settings['cluster.api']
  try {
    return parseApiMultiaddr(String(api.value))
  } catch (err) {
    throw new ConfigError(
      `cluster.api (${api.source ?? api.origin}): ${(err as Error).message.replace(/^cannot use Kubo API address /, '')}`,
      { hint: "expected Cluster's REST API multiaddr, like /ip4/127.0.0.1/tcp/9094" },
    )
  }
}

export function clusterRestOf(config: IpfsKitConfig, timeoutMs?: number): ClusterRest {
  return new ClusterRest({
    address: clusterApiAddress(config),
    auth: (config.settings['cluster.auth'].value as string | null) ?? null,
    ...(timeoutMs ? { timeoutMs } : {}),
  })
}
