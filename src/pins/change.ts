// `pin add` and `pin rm`: the change goes through Kubo (the node is the truth), then the
// running manager records what Kubo now holds for those CIDs in pins_delta.parquet, so that the
// next `pin list` shows it at once (a full rewrite of pins.parquet follows in the background).
import { loadConfig } from '../config/config.js'
import { ipfsKitPath, ipfsRepoPath } from '../config/paths.js'
import { ManagerNotRunningError } from '../errors.js'
import { connectKubo } from '../kubo/connect.js'
import { callControl } from '../manager/control.js'
import { managerFiles } from '../manager/files.js'

export interface PinChange {
  pins: string[]
  /** How long Kubo took to confirm the change. */
  kubo_ms: number
  /** How long the index update took after that (null when there was none). */
  refresh_ms: number | null
  /** The index shows the change before this returns; false when no manager runs. */
  indexRefreshed: boolean
  /** Why the refresh did not happen or failed, when it did not. */
  refreshProblem: string | null
}

async function refreshIndex(
  note: 'pin.add' | 'pin.rm',
  cids: string[],
): Promise<Pick<PinChange, 'indexRefreshed' | 'refreshProblem' | 'refresh_ms'>> {
  const t0 = performance.now()
  try {
    // Usually a few milliseconds; a full cycle (long at a million pins) when the delta is full.
    await callControl(
      managerFiles(ipfsKitPath()),
      { cmd: 'pins.record', note, cids },
      { timeoutMs: 30 * 60_000 },
    )
    return { indexRefreshed: true, refreshProblem: null, refresh_ms: Math.round(performance.now() - t0) }
  } catch (err) {
    if (err instanceof ManagerNotRunningError) {
      return {
        indexRefreshed: false,
        refresh_ms: null,
        refreshProblem:
          'the ipfs-kit daemon is not running, so the index was not updated (`ipfs-kit daemon start`)',
      }
    }
    return {
      indexRefreshed: false,
      refresh_ms: null,
      refreshProblem: `the index update failed: ${(err as Error).message}`,
    }
  }
}

export async function addPin(
  cid: string,
  options: { name?: string; recursive?: boolean; onProgress?: (nodes: number) => void } = {},
): Promise<PinChange> {
  const rpc = await connectKubo(await loadConfig(), ipfsRepoPath())
  const t0 = performance.now()
  let pins: string[] = []
  // Fetching a large DAG can take long: the timeout is the longest silence, not the whole call.
  for await (const event of rpc.pinAdd(
    cid,
    { recursive: options.recursive ?? true, ...(options.name !== undefined ? { name: options.name } : {}) },
    { timeoutMs: 5 * 60_000 },
  )) {
    if (event.progress !== undefined) options.onProgress?.(event.progress)
    if (event.pins) pins = event.pins
  }
  const kubo_ms = Math.round(performance.now() - t0)
  return { pins, kubo_ms, ...(await refreshIndex('pin.add', pins.length > 0 ? pins : [cid])) }
}

export async function removePin(cid: string): Promise<PinChange> {
  const rpc = await connectKubo(await loadConfig(), ipfsRepoPath())
  const t0 = performance.now()
  const pins = await rpc.pinRm(cid)
  const kubo_ms = Math.round(performance.now() - t0)
  return { pins, kubo_ms, ...(await refreshIndex('pin.rm', pins.length > 0 ? pins : [cid])) }
}
