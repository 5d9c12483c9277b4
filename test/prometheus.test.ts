// A real Prometheus server (Debian's package) scrapes the manager's /metrics on loopback with the
// bearer token, and answers a query with the node's own figures: the whole path a monitoring
// setup takes, not only the text format.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { makeTempDir } from './helpers/kubo.js'
import { toolOrSkip } from './helpers/tools.js'

const PROMETHEUS = toolOrSkip('/usr/bin/prometheus')

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

interface Sample {
  metric: Record<string, string>
  value: [number, string]
}

let d: DaemonEnv
let prom: ChildProcess | undefined
let promUrl = ''
let output = ''

before(async () => {
  if (!PROMETHEUS) return
  d = await daemonEnv()
  assert.equal((await d.cli(['daemon', 'start', '--interval', '2'])).code, 0)
  const target = new URL((await d.status()).http.url as string)
  const dir = await makeTempDir('prometheus')
  const config = join(dir, 'prometheus.yml')
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: ipfs-kit',
      '    scrape_interval: 1s',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${join(d.kitPath, 'run', 'http.token')}`,
      '    static_configs:',
      `      - targets: ['${target.host}']`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  promUrl = `http://127.0.0.1:${port}`
  prom = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  prom.stderr?.on('data', (c) => {
    output = `${output}${c}`.slice(-4000)
  })
})
after(async () => {
  prom?.kill('SIGTERM')
  await d?.cli(['daemon', 'stop'])
})

async function query(q: string): Promise<Sample[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)
  const body = (await res.json()) as { status: string; data: { result: Sample[] } }
  assert.equal(body.status, 'success')
  return body.data.result
}

describe('Prometheus scrapes the manager', () => {
  it('scrapes /metrics with the token, and answers queries with the node’s figures', async (t) => {
    if (!PROMETHEUS) return t.skip('prometheus is not installed (Debian package prometheus)')
    const up = await waitFor(
      `Prometheus to scrape ipfs-kit (its log: ${output.slice(-500)})`,
      async () => {
        const r = await query('up{job="ipfs-kit"}')
        return r[0]?.value[1] === '1' ? r : null
      },
      60_000,
    )
    assert.equal(up.length, 1)
    const pins = JSON.parse((await d.cli(['pin', 'list', '--json', '--limit', '0'])).stdout) as {
      pins: Array<{ type: string }>
    }
    const recursive = pins.pins.filter((p) => p.type === 'recursive').length
    const samples = await waitFor(
      'the pin count in Prometheus',
      async () => {
        const r = await query('ipfs_kit_pins{type="recursive"}')
        return r.length > 0 ? r : null
      },
      30_000,
    )
    assert.equal(Number(samples[0]?.value[1]), recursive)
    const kuboUp = await query('ipfs_kit_kubo_up')
    assert.equal(kuboUp[0]?.value[1], '1')
    // A function over the series works too: cycles happen every 2 s.
    const cycles = await waitFor(
      'cycles counted over time',
      async () => {
        const r = await query('increase(ipfs_kit_index_cycles_total[30s])')
        return r.length > 0 && Number(r[0]?.value[1]) > 0 ? r : null
      },
      60_000,
    )
    assert.ok(Number(cycles[0]?.value[1]) > 0)
  })
})
