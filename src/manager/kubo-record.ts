// run/kubo.json: the Kubo process a manager started (pid and start time, its repository), so that
// the next manager adopts it after a crash and `daemon stop` can stop it when its manager is
// gone. Written atomically by the supervisor; read by both.
import { readFile } from 'node:fs/promises'

export interface KuboRecord {
  pid: number
  start_time: string | null
  ipfs_path: string
  started_at: string
}

/** The record, or null when there is none or it is not one. */
export async function readKuboRecord(path: string): Promise<KuboRecord | null> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as Partial<KuboRecord> | null
    return r && Number.isInteger(r.pid) && typeof r.ipfs_path === 'string' ? (r as KuboRecord) : null
  } catch {
    return null
  }
}
