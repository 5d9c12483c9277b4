// The dashboard's view of the manager's JSON routes (src/http/dashboard/routes.ts): the shapes it
// reads, and a fetch that sends the session cookie (same origin) and turns failures into errors.

export interface StatusReport {
  source: 'index' | 'api' | null
  state_as_of: string | null
  manager: { running: boolean; pid: number | null; uptime_s: number | null; ready: boolean | null }
  kubo: {
    peer_id: string | null
    version: string | null
    healthy: boolean
    mode: string | null
    restarts: number | null
    last_health_error: string | null
  }
  network: { peers: number | null }
  storage: {
    repo_size_bytes: number | null
    storage_max_bytes: number | null
    pin_count: number | null
    pins_by_type: { recursive: number; direct: number } | null
  }
  index: {
    running: boolean
    paused: boolean | null
    interval_s: number
    effective_interval_s: number | null
    last_updated: string | null
    errors: Record<string, string>
  }
  http: { url: string | null; pinning_endpoint: string | null } | null
  problems: string[]
}

/** Each point: [unix seconds, ...values]; a value is null where the node did not say. */
export type Point = [number, ...Array<number | null>]

export interface History {
  range: string
  from: string
  to: string
  bandwidth: Point[]
  peers: Point[]
  repo: Point[]
}

export interface PeerRow {
  peer_id: string
  addr: string | null
  direction: string | null
  latency_ms: number | null
  agent: string | null
  bw_in_bytes: number | null
  bw_out_bytes: number | null
  rate_in_bps: number | null
  rate_out_bps: number | null
  connected_since: string | null
}

export interface Peers {
  generated_at: string | null
  peers: PeerRow[]
}

export interface PinRow {
  cid: string
  type: string
  name: string | null
  first_seen: string
  first_seen_exact: boolean
  size: number | null
  kind: string | null
  mime: string | null
}

export interface PinsPage {
  total: number
  offset: number
  limit: number
  pins: PinRow[]
}

export interface Storage {
  repo_size_bytes: number | null
  storage_max_bytes: number | null
  pinned_bytes: number | null
  shared_bytes: number | null
  unpinned_bytes: number | null
  pins: number | null
  pins_examined: number | null
  largest: Array<{ cid: string; size: number; kind: string | null; name: string | null }>
  incomplete_pins: number | null
  growth_bytes_per_day: number | null
  growth_bytes_per_week: number | null
  days_until_full: number | null
  pins_added_last_day: number | null
  pins_added_last_day_bytes: number | null
  reasons: Record<string, string>
}

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal,
  })
  if (!res.ok) {
    let details = res.statusText
    try {
      const body = (await res.json()) as { error?: { details?: string } }
      details = body.error?.details ?? details
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(res.status, details)
  }
  return (await res.json()) as T
}
