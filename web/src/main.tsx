// The ipfs-kit dashboard: the node at a glance, from the manager's index. Polls the manager's
// JSON routes (status every 5 s, the rest less often) and redraws; every value is rendered as text
// by Preact (nothing the node says is ever parsed as HTML).
import { render } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import {
  ApiError,
  getJson,
  type History,
  type Peers,
  type PinsPage,
  type StatusReport,
  type Storage,
} from './api.js'
import { Chart } from './chart.js'
import { ago, bytes, count, duration, rate, short } from './format.js'

/** Calls `load` now and every `everyMs`; keeps the last answer and the last error. */
function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    const abort = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const tick = async () => {
      try {
        setData(await load(abort.signal))
        setError(null)
      } catch (err) {
        if (abort.signal.aborted) return
        if (err instanceof ApiError && err.status === 401) {
          setError(
            'This browser is not logged in (or the manager restarted): run `ipfs-kit dashboard` again.',
          )
        } else setError(err instanceof Error ? err.message : String(err))
      }
      if (!abort.signal.aborted) timer = setTimeout(tick, everyMs)
    }
    void tick()
    return () => {
      abort.abort()
      clearTimeout(timer)
    }
  }, deps)
  return { data, error }
}

function Card(p: { label: string; value: string; detail?: string; id?: string }) {
  return (
    <div class="card" id={p.id}>
      <div class="label">{p.label}</div>
      <div class="value">{p.value}</div>
      {p.detail ? <div class="detail">{p.detail}</div> : null}
    </div>
  )
}

function Header({ s }: { s: StatusReport | null }) {
  const healthy = s?.kubo.healthy ?? false
  return (
    <header>
      <h1>ipfs-kit</h1>
      <dl class="ids">
        <div>
          <dt>Peer ID</dt>
          <dd id="peer-id" title={s?.kubo.peer_id ?? ''}>
            {s?.kubo.peer_id ?? '—'}
          </dd>
        </div>
        <div>
          <dt>Kubo</dt>
          <dd id="kubo-version">{s?.kubo.version ?? '—'}</dd>
        </div>
        <div>
          <dt>Up</dt>
          <dd>{duration(s?.manager.uptime_s)}</dd>
        </div>
        <div>
          <dt>Index</dt>
          <dd id="index-age">
            {s ? `${s.index.paused ? 'paused, ' : ''}updated ${ago(s.index.last_updated)}` : '—'}
          </dd>
        </div>
      </dl>
      <span class={`health ${healthy ? 'ok' : 'bad'}`} id="health">
        {s === null ? '…' : healthy ? 'healthy' : 'not healthy'}
      </span>
    </header>
  )
}

const RANGES = ['1h', '24h', '7d'] as const

function Charts() {
  const [range, setRange] = useState<(typeof RANGES)[number]>('1h')
  const { data, error } = usePoll(
    (signal) => getJson<History>(`/api/history?range=${range}`, signal),
    30_000,
    [range],
  )
  const from = data ? Date.parse(data.from) / 1000 : 0
  const to = data ? Date.parse(data.to) / 1000 : 0
  return (
    <section id="charts">
      <div class="section-head">
        <h2>Over time</h2>
        <div class="tabs" role="tablist">
          {RANGES.map((r) => (
            <button
              type="button"
              role="tab"
              aria-selected={r === range}
              class={r === range ? 'on' : ''}
              onClick={() => setRange(r)}
            >
              {r}
            </button>
          ))}
        </div>
      </div>
      {error ? <p class="error">{error}</p> : null}
      {data ? (
        <div class="charts">
          <Chart
            title="Bandwidth"
            points={data.bandwidth}
            series={[
              { label: 'in', color: '--c1' },
              { label: 'out', color: '--c2' },
            ]}
            format={rate}
            from={from}
            to={to}
          />
          <Chart
            title="Repository size"
            points={data.repo.map((p) => [p[0], p[1] ?? null])}
            series={[{ label: 'size', color: '--c3' }]}
            format={bytes}
            from={from}
            to={to}
          />
          <Chart
            title="Peers"
            points={data.peers}
            series={[{ label: 'peers', color: '--c4' }]}
            format={(v) => (v === null ? '—' : String(Math.round(v)))}
            integer
            from={from}
            to={to}
          />
        </div>
      ) : null}
    </section>
  )
}

function PeersTable() {
  const { data, error } = usePoll((signal) => getJson<Peers>('/api/peers', signal), 15_000, [])
  return (
    <section id="peers">
      <div class="section-head">
        <h2>Peers {data ? <span class="muted">({data.peers.length})</span> : null}</h2>
        <span class="muted">{data?.generated_at ? `as of ${ago(data.generated_at)}` : ''}</span>
      </div>
      {error ? <p class="error">{error}</p> : null}
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Peer</th>
              <th>Address</th>
              <th>Dir.</th>
              <th class="num">Latency</th>
              <th>Agent</th>
              <th class="num">In</th>
              <th class="num">Out</th>
            </tr>
          </thead>
          <tbody>
            {data?.peers.length === 0 ? (
              <tr>
                <td colSpan={7} class="empty">
                  No peers connected.
                </td>
              </tr>
            ) : null}
            {data?.peers.slice(0, 200).map((p) => (
              <tr key={`${p.peer_id}${p.addr}`}>
                <td title={p.peer_id} class="mono">
                  {short(p.peer_id)}
                </td>
                <td class="mono small">{p.addr ?? '—'}</td>
                <td>{p.direction ?? '—'}</td>
                <td class="num">{p.latency_ms === null ? '—' : `${p.latency_ms.toFixed(1)} ms`}</td>
                <td class="small">{p.agent ?? '—'}</td>
                <td class="num">{bytes(p.bw_in_bytes)}</td>
                <td class="num">{bytes(p.bw_out_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

const KINDS = ['', 'file', 'directory', 'hamt-directory', 'symlink', 'raw', 'dag-cbor', 'other']
const PAGE = 25

function PinsBrowser() {
  const [search, setSearch] = useState('')
  const [typed, setTyped] = useState('')
  const [kind, setKind] = useState('')
  const [sort, setSort] = useState<'created' | 'size' | 'cid'>('created')
  const [offset, setOffset] = useState(0)
  useEffect(() => {
    const t = setTimeout(() => {
      setSearch(typed.trim())
      setOffset(0)
    }, 250)
    return () => clearTimeout(t)
  }, [typed])
  const load = useCallback(
    (signal: AbortSignal) => {
      const q = new URLSearchParams({ q: search, sort, offset: String(offset), limit: String(PAGE) })
      if (kind) q.set('kind', kind)
      return getJson<PinsPage>(`/api/pins?${q}`, signal)
    },
    [search, kind, sort, offset],
  )
  const { data, error } = usePoll(load, 30_000, [load])
  return (
    <section id="pins">
      <div class="section-head">
        <h2>
          Pins{' '}
          <span class="muted" id="pins-total">
            {data ? `(${count(data.total)})` : ''}
          </span>
        </h2>
      </div>
      <div class="filters">
        <input
          type="search"
          id="pin-search"
          placeholder="Search a CID or a name"
          value={typed}
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
        />
        <select
          aria-label="kind"
          value={kind}
          onChange={(e) => {
            setKind((e.target as HTMLSelectElement).value)
            setOffset(0)
          }}
        >
          {KINDS.map((k) => (
            <option value={k}>{k === '' ? 'any kind' : k}</option>
          ))}
        </select>
        <select
          aria-label="sort"
          id="pin-sort"
          value={sort}
          onChange={(e) => {
            setSort((e.target as HTMLSelectElement).value as typeof sort)
            setOffset(0)
          }}
        >
          <option value="created">newest first</option>
          <option value="size">largest first</option>
          <option value="cid">by CID</option>
        </select>
      </div>
      {error ? <p class="error">{error}</p> : null}
      <div class="scroll">
        <table id="pins-table">
          <thead>
            <tr>
              <th>CID</th>
              <th>Name</th>
              <th>Type</th>
              <th class="num">Size</th>
              <th>Kind</th>
              <th>MIME</th>
              <th>First seen</th>
            </tr>
          </thead>
          <tbody>
            {data?.pins.length === 0 ? (
              <tr>
                <td colSpan={7} class="empty">
                  No pins match.
                </td>
              </tr>
            ) : null}
            {data?.pins.map((p) => (
              <tr key={`${p.cid}${p.type}`}>
                <td class="mono" title={p.cid}>
                  {short(p.cid, 10)}
                </td>
                <td class="name">{p.name ?? ''}</td>
                <td>{p.type}</td>
                <td class="num">{bytes(p.size)}</td>
                <td>{p.kind ?? '—'}</td>
                <td>{p.mime ?? '—'}</td>
                <td title={p.first_seen_exact ? p.first_seen : `${p.first_seen} (there at the first index)`}>
                  {p.first_seen_exact ? ago(p.first_seen) : `≤ ${ago(p.first_seen)}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.total > PAGE ? (
        <div class="pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            ‹ Newer
          </button>
          <span class="muted">
            {count(offset + 1)}–{count(Math.min(offset + PAGE, data.total))} of {count(data.total)}
          </span>
          <button
            type="button"
            disabled={offset + PAGE >= data.total}
            onClick={() => setOffset(offset + PAGE)}
          >
            Older ›
          </button>
        </div>
      ) : null}
    </section>
  )
}

function StorageReport() {
  const { data, error } = usePoll((signal) => getJson<Storage>('/api/storage', signal), 60_000, [])
  const why = (key: string) => data?.reasons[key] ?? ''
  return (
    <section id="storage">
      <div class="section-head">
        <h2>Storage</h2>
      </div>
      {error ? <p class="error">{error}</p> : null}
      {data ? (
        <>
          <div class="cards">
            <Card
              label="Repository"
              value={bytes(data.repo_size_bytes)}
              detail={`of ${bytes(data.storage_max_bytes)}`}
            />
            <Card
              label="Pinned (shared once)"
              value={bytes(data.pinned_bytes)}
              detail={why('pinned_bytes')}
            />
            <Card
              label="Not pinned (gc could free)"
              value={bytes(data.unpinned_bytes)}
              detail={why('unpinned_bytes')}
            />
            <Card
              label="Growth"
              value={data.growth_bytes_per_day === null ? '—' : `${bytes(data.growth_bytes_per_day)}/day`}
              detail={why('growth_bytes_per_day')}
            />
            <Card
              label="Full in"
              value={data.days_until_full === null ? '—' : `${data.days_until_full.toFixed(1)} days`}
              detail={why('days_until_full')}
            />
            <Card
              label="Examined"
              value={`${count(data.pins_examined)} of ${count(data.pins)}`}
              detail={data.incomplete_pins ? `${count(data.incomplete_pins)} incomplete` : ''}
            />
          </div>
          <h3>Largest pins</h3>
          <table>
            <thead>
              <tr>
                <th>CID</th>
                <th>Name</th>
                <th>Kind</th>
                <th class="num">Size</th>
              </tr>
            </thead>
            <tbody>
              {data.largest.map((p) => (
                <tr key={p.cid}>
                  <td class="mono" title={p.cid}>
                    {short(p.cid, 10)}
                  </td>
                  <td class="name">{p.name ?? ''}</td>
                  <td>{p.kind ?? '—'}</td>
                  <td class="num">{bytes(p.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  )
}

function App() {
  const { data: s, error } = usePoll((signal) => getJson<StatusReport>('/api/status', signal), 5_000, [])
  return (
    <>
      <Header s={s} />
      <main>
        {error ? <p class="error banner">{error}</p> : null}
        {s?.problems.map((p) => (
          <p class="warn banner">{p}</p>
        ))}
        <div class="cards" id="summary">
          <Card
            id="pin-count"
            label="Pins"
            value={count(s?.storage.pin_count)}
            detail={
              s?.storage.pins_by_type
                ? `${count(s.storage.pins_by_type.recursive)} recursive, ${count(s.storage.pins_by_type.direct)} direct`
                : ''
            }
          />
          <Card
            label="Repository"
            value={bytes(s?.storage.repo_size_bytes)}
            detail={`of ${bytes(s?.storage.storage_max_bytes)}`}
          />
          <Card label="Peers" value={count(s?.network.peers)} />
          <Card label="Kubo restarts" value={count(s?.kubo.restarts)} detail={s?.kubo.mode ?? ''} />
        </div>
        {/* The rest asks once the status is in: the pin count is on screen first. */}
        {s || error ? (
          <>
            <Charts />
            <PinsBrowser />
            <StorageReport />
            <PeersTable />
          </>
        ) : null}
      </main>
      <footer class="muted">
        Every figure is the node's own, from ipfs-kit's index
        {s?.http?.pinning_endpoint ? ` · Pinning Service API: ${s.http.pinning_endpoint}` : ''}
      </footer>
    </>
  )
}

const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(<App />, root)
}
