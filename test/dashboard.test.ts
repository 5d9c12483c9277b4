// The dashboard in a real browser: Debian's Chromium driven by playwright-core, logged in with the
// link `ipfs-kit dashboard --print-url` makes. The page loads with no script error, shows the
// node's peer ID and pin count, draws its charts from the history, finds a pin by name, keeps a
// pin named like a script tag as text, and follows the system's dark mode.
// IPFS_KIT_SCREENSHOT_DIR=<folder> also saves the page in light and dark (docs/ holds a pair).
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runIpfs } from '../src/kubo/process.js'
import { type DaemonEnv, daemonEnv, waitFor } from './helpers/daemon.js'
import { makeTempDir } from './helpers/kubo.js'
import { toolOrSkip } from './helpers/tools.js'

const CHROMIUM = toolOrSkip('/usr/bin/chromium')
const HOSTILE_NAME = '<script>alert("pwned")</script><img src=x onerror=alert(2)>'

let d: DaemonEnv
let browser: import('playwright-core').Browser | undefined
let peerId = ''
let pinCount = 0

before(async () => {
  if (!CHROMIUM) return
  d = await daemonEnv()
  assert.equal((await d.cli(['daemon', 'start', '--interval', '1'])).code, 0)
  const dir = await makeTempDir('dashboard')
  const ipfs = (args: string[]) =>
    runIpfs(d.env.IPFS_KIT_IPFS_BIN as string, args, { ipfsPath: d.ipfsPath, timeoutMs: 60_000 })
  for (const [file, name] of [
    ['vacation', 'vacation.png'],
    ['report', 'report.pdf'],
    ['hostile', HOSTILE_NAME],
  ] as const) {
    await writeFile(join(dir, file), `dashboard test ${file} ${Date.now()}`)
    const cid = (await ipfs(['add', '-Q', '--pin=false', join(dir, file)])).trim()
    assert.equal((await d.cli(['pin', 'add', cid, '--name', name])).code, 0)
  }
  const st = await d.status()
  peerId = st.kubo.peer_id as string
  pinCount = st.storage.pin_count as number
  // A few cycles, so that the charts have history to draw.
  await new Promise((r) => setTimeout(r, 3_500))
  const { chromium } = await import('playwright-core')
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})
after(async () => {
  await browser?.close()
  await d?.cli(['daemon', 'stop'])
})

async function loggedInPage(colorScheme: 'light' | 'dark') {
  const b = browser as import('playwright-core').Browser
  const context = await b.newContext({ colorScheme, viewport: { width: 1280, height: 1000 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`)
  })
  page.on('dialog', (dialog) => {
    problems.push(`a dialog opened: ${dialog.message()}`)
    void dialog.dismiss()
  })
  const link = (await d.cli(['dashboard', '--print-url'])).stdout.trim()
  const res = await page.goto(link)
  assert.equal(res?.status(), 200)
  return { page, context, problems }
}

/**
 * Waits until the page's expression (browser-side code, as text) is true, asking from here: the
 * dashboard's Content-Security-Policy forbids the page to evaluate strings itself, as it should.
 */
async function until(
  page: import('playwright-core').Page,
  expression: string,
  timeout = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await page.evaluate(expression).catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${expression}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const text = (selector: string) => `document.querySelector(${JSON.stringify(selector)})?.textContent`

describe('the dashboard in Chromium', () => {
  it('shows the node, its pins and charts; search finds a pin; names stay text', async (t) => {
    if (!CHROMIUM) return t.skip('chromium is not installed (Debian package chromium)')
    const { page, context, problems } = await loggedInPage('light')
    try {
      await until(page, `${text('#peer-id')} === ${JSON.stringify(peerId)}`)
      assert.equal(await page.textContent('#kubo-version'), (await d.status()).kubo.version)
      assert.equal(await page.textContent('#health'), 'healthy')
      await until(page, `${text('#pin-count .value')} === ${JSON.stringify(pinCount.toLocaleString('en'))}`)
      // Three charts, each a drawn canvas over the history's points.
      await until(
        page,
        `(() => { const plots = [...document.querySelectorAll('#charts .plot')]; return plots.length === 3 && plots.every((p) => Number(p.getAttribute('data-points')) > 0 && p.querySelector('canvas')) })()`,
      )
      const canvas = (await page.evaluate(
        `(() => { const c = document.querySelector('#charts .plot canvas'); return { w: c.width, h: c.height } })()`,
      )) as { w: number; h: number }
      assert.ok(canvas.w > 100 && canvas.h > 100, JSON.stringify(canvas))
      // Search by name.
      await page.fill('#pin-search', 'vacation')
      await until(page, `${text('#pins-total')} === '(1)'`, 10_000)
      assert.equal(await page.textContent('#pins-table tbody td.name'), 'vacation.png')
      // A name made of markup is shown as it is, and runs nothing.
      await page.fill('#pin-search', 'pwned')
      await until(page, `${text('#pins-table tbody td.name')} === ${JSON.stringify(HOSTILE_NAME)}`, 10_000)
      assert.equal(await page.textContent('#pins-total'), '(1)')
      assert.equal(
        await page.evaluate(`document.querySelectorAll('#pins-table script, #pins-table img').length`),
        0,
      )
      // The largest first, once the content index knows every size (it lists sized pins only).
      await waitFor(
        'every pin examined',
        async () =>
          (
            JSON.parse((await d.cli(['pin', 'list', '--json'])).stdout) as {
              pins: Array<{ size: number | null }>
            }
          ).pins.every((p) => p.size !== null),
        60_000,
      )
      await page.fill('#pin-search', '')
      await page.selectOption('#pin-sort', 'size')
      await until(page, `document.querySelectorAll('#pins-table tbody tr').length === ${pinCount}`, 10_000)
      const sizes = (await page.evaluate(
        `[...document.querySelectorAll('#pins-table tbody tr td.num')].map((td) => td.textContent)`,
      )) as string[]
      assert.equal(sizes.length, pinCount)
      assert.ok(!sizes.includes('—'), 'every pin has its size')
      // In the order of `pin list --sort size`: largest first, then by CID (sorted in turns).
      const api = (await page.evaluate(`fetch('/api/pins?sort=size&limit=500').then((r) => r.json())`)) as {
        total: number
        pins: Array<{ cid: string; size: number | null }>
      }
      const cli = JSON.parse(
        (await d.cli(['pin', 'list', '--sort', 'size', '--limit', '0', '--json'])).stdout,
      ) as {
        pins: Array<{ cid: string; size: number | null }>
      }
      assert.equal(api.total, pinCount)
      assert.deepEqual(
        api.pins.map((p) => [p.cid, p.size]),
        cli.pins.map((p) => [p.cid, p.size]),
      )
      if (process.env.IPFS_KIT_SCREENSHOT_DIR)
        await page.screenshot({
          path: join(process.env.IPFS_KIT_SCREENSHOT_DIR, 'dashboard-light.png'),
          fullPage: true,
        })
      assert.deepEqual(problems, [])
    } finally {
      await context.close()
    }
  })

  it('follows dark mode', async (t) => {
    if (!CHROMIUM) return t.skip('chromium is not installed (Debian package chromium)')
    const light = await loggedInPage('light')
    const dark = await loggedInPage('dark')
    try {
      const bg = async (p: typeof light) => {
        await p.page.waitForSelector('#peer-id')
        return (await p.page.evaluate('getComputedStyle(document.body).backgroundColor')) as string
      }
      const [l, k] = [await bg(light), await bg(dark)]
      assert.notEqual(l, k)
      // Dark means dark: the background's channels are low.
      const channels = k.match(/\d+/g)?.map(Number) ?? []
      assert.ok(
        channels.slice(0, 3).every((c) => c < 60),
        k,
      )
      await until(dark.page, `${text('#peer-id')} === ${JSON.stringify(peerId)}`)
      if (process.env.IPFS_KIT_SCREENSHOT_DIR) {
        await until(dark.page, `document.querySelectorAll('#charts canvas').length === 3`)
        await dark.page.screenshot({
          path: join(process.env.IPFS_KIT_SCREENSHOT_DIR, 'dashboard-dark.png'),
          fullPage: true,
        })
      }
      assert.deepEqual([...light.problems, ...dark.problems], [])
    } finally {
      await light.context.close()
      await dark.context.close()
    }
  })

  it('without a login the page says how to get one; a link logs in once', async (t) => {
    if (!CHROMIUM) return t.skip('chromium is not installed (Debian package chromium)')
    const b = browser as import('playwright-core').Browser
    const first = await b.newContext()
    const second = await b.newContext()
    try {
      const page = await first.newPage()
      const res = await page.goto(`${(await d.status()).http.url}/`)
      assert.equal(res?.status(), 401)
      assert.match((await page.textContent('body')) ?? '', /ipfs-kit dashboard/)
      const link = (await d.cli(['dashboard', '--print-url'])).stdout.trim()
      assert.equal((await page.goto(link))?.status(), 200)
      assert.equal((await (await second.newPage()).goto(link))?.status(), 401)
    } finally {
      await first.close()
      await second.close()
    }
  })
})
