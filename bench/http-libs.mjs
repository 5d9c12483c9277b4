// Which HTTP server library the manager uses: Hono (on @hono/node-server) against Fastify, the
// two maintained choices we weighed, measured in one run: the time to load the library and
// start listening (the manager pays it at every start), and a small JSON route under 20
// concurrent keep-alive clients for 5 s (requests per second, p50/p99 round trip). Each case
// runs in a fresh process, alternating, --runs times; medians are printed.
//
// Fastify is not a dependency of ipfs-kit: install both into a scratch folder and point at it:
//   npm i --prefix /tmp/httplibs fastify@5 hono@4 @hono/node-server@2
//   node bench/http-libs.mjs /tmp/httplibs [--runs 5]
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, child: { type: 'string' } },
  allowPositionals: true,
})
const dir = positionals[0]
if (!dir) {
  process.stderr.write(
    'usage: node bench/http-libs.mjs <folder with fastify, hono, @hono/node-server> [--runs 5]\n',
  )
  process.exit(2)
}
const { createRequire } = await import('node:module')
const need = createRequire(`${dir}/node_modules/`)

async function child(which) {
  const http = await import('node:http')
  const t0 = performance.now()
  let port
  let close
  if (which === 'fastify') {
    const Fastify = need('fastify')
    const app = Fastify()
    app.get('/x', async () => ({ ok: 1, pins: [1, 2, 3] }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    port = app.server.address().port
    close = () => app.close()
  } else {
    const { Hono } = need('hono')
    const { getRequestListener } = need('@hono/node-server')
    const app = new Hono()
    app.get('/x', (c) => c.json({ ok: 1, pins: [1, 2, 3] }))
    const server = http.createServer(getRequestListener(app.fetch))
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    port = server.address().port
    close = () => new Promise((r) => server.close(r))
  }
  const startMs = performance.now() - t0
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 })
  const times = []
  const deadline = performance.now() + 5000
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now()
        await new Promise((resolve, reject) =>
          http
            .get({ host: '127.0.0.1', port, path: '/x', agent }, (res) => {
              res.resume()
              res.on('end', resolve)
            })
            .on('error', reject),
        )
        times.push(performance.now() - t)
      }
    }),
  )
  agent.destroy()
  await close()
  times.sort((a, b) => a - b)
  process.stdout.write(
    JSON.stringify({
      startMs,
      rps: times.length / 5,
      p50: times[Math.floor(times.length / 2)],
      p99: times[Math.floor(times.length * 0.99)],
      rssMiB: process.memoryUsage().rss / 1048576,
    }),
  )
}

if (values.child) {
  await child(values.child)
} else {
  const runs = Number(values.runs)
  const results = { hono: [], fastify: [] }
  for (let i = 0; i < runs; i++) {
    for (const which of ['hono', 'fastify']) {
      const r = spawnSync(process.execPath, [import.meta.filename, dir, '--child', which], {
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new Error(r.stderr)
      results[which].push(JSON.parse(r.stdout))
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  process.stdout.write(
    '| library | load + listen | requests/s (20 clients) | p50 | p99 | RSS |\n| --- | --- | --- | --- | --- | --- |\n',
  )
  for (const [which, rs] of Object.entries(results)) {
    const m = (k) => median(rs.map((r) => r[k]))
    process.stdout.write(
      `| ${which} | ${m('startMs').toFixed(0)} ms | ${m('rps').toFixed(0)} | ${m('p50').toFixed(2)} ms | ${m('p99').toFixed(2)} ms | ${m('rssMiB').toFixed(0)} MiB |\n`,
    )
  }
}
