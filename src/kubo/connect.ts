// The Kubo RPC client for an endpoint of endpoint.ts: the one way the CLI and doctor connect.
import type { IpfsKitConfig } from '../config/config.js'
import { type KuboEndpoint, requireKuboEndpoint } from './endpoint.js'
import { KuboRpc } from './rpc.js'

export function rpcFor(endpoint: KuboEndpoint): KuboRpc {
  return new KuboRpc({ address: endpoint.address, auth: endpoint.auth, timeoutMs: endpoint.timeoutMs })
}

export async function connectKubo(
  config: IpfsKitConfig,
  ipfsPath: string,
  timeoutMs?: number,
): Promise<KuboRpc> {
  return rpcFor(await requireKuboEndpoint(config, ipfsPath, timeoutMs === undefined ? {} : { timeoutMs }))
}
