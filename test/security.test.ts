// Security of a running manager on a real node whose API needs a token: everything it creates
// is private to the user, the token appears in no file it writes, its control socket refuses
// other users, and no user input can reach a shell.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type DaemonEnv, daemonEnv } from './helpers/daemon.js'
import { startKubo, type TestKubo } from './helpers/kubo.js'

const SECRET = 'bearer:sec-7f3a9c'
let kubo: TestKubo
let d: DaemonEnv

before(async () => {
  kubo = await startKubo({
    config: [['API.Authorizations', { kit: { AuthSecret: SECRET, AllowedPaths: ['/api/v0'] } }]],
  })
  d = await daemonEnv({ ipfsPath: kubo.ipfsPath, extra: { IPFS_KIT_KUBO_AUTH: SECRET } })
  const start = await d.cli(['daemon', 'start'])
  assert.equal(start.code, 0, start.stderr)
  // Exercise every path that talks to Kubo once: a refresh, a pin add, status.
  assert.equal((await d.cli(['index', 'refresh'])).code, 0)
  const cid = (
    await kubo.ipfs([`--api-auth=${SECRET}`, 'add', '-Q', '--pin=false', fileURLToPath(import.meta.url)])
  ).trim()
  assert.equal((await d.cli(['pin', 'add', cid])).code, 0)
  assert.equal((await d.cli(['daemon', 'status'])).code, 0)
})
after(async () => {
  await d?.cli(['daemon', 'stop'])
  await kubo?.stop()
})

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [dir]
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(path)))
    else out.push(path)
  }
  return out
}

describe('security', () => {
  it('every folder it creates is 0700 and every file 0600', async () => {
    const paths = await walk(d.kitPath)
    assert.ok(paths.length > 10, paths.join('\n'))
    const wrong: string[] = []
    for (const path of paths) {
      const st = await lstat(path)
      const mode = st.mode & 0o777
      const want = st.isDirectory() ? 0o700 : 0o600
      if (mode !== want) wrong.push(`${path}: ${mode.toString(8)}`)
    }
    assert.deepEqual(wrong, [])
  })

  it('the API token is in no file it writes, and config show masks it', async () => {
    for (const path of await walk(d.kitPath)) {
      const st = await lstat(path)
      if (!st.isFile()) continue
      const text = await readFile(path, 'latin1')
      assert.ok(!text.includes('sec-7f3a9c'), `${path} holds the token`)
    }
    const shown = await d.cli(['config', 'show', '--json'])
    assert.equal(shown.code, 0)
    assert.ok(!shown.stdout.includes('sec-7f3a9c'))
    assert.match(shown.stdout, /"kubo\.auth"/)
  })

  it('the control socket refuses another user', {
    skip: process.getuid?.() === 0 ? false : 'needs root to act as another user',
  }, async () => {
    const socket = join(d.kitPath, 'run', 'control.sock')
    assert.ok((await lstat(socket)).isSocket())
    const probe = `require('node:net').connect(${JSON.stringify(socket)})
      .on('connect', () => { console.log('connected'); process.exit(0) })
      .on('error', (e) => { console.log(e.code); process.exit(0) })`
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', probe], {
        uid: 65534,
        gid: 65534,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let text = ''
      child.stdout.on('data', (c) => {
        text += c
      })
      child.on('error', reject)
      child.on('close', () => resolve(text.trim()))
    })
    assert.equal(out, 'EACCES')
  })

  it('no user input can reach a shell: child processes are spawned with argument lists only', async () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url))
    const offenders: string[] = []
    for (const path of await walk(src)) {
      if (!path.endsWith('.js')) continue
      const text = await readFile(path, 'utf8')
      if (/\bshell\s*:/.test(text)) offenders.push(`${path}: shell option`)
      if (/\b(exec|execSync|spawnSync|execFileSync)\b/.test(text.replace(/\.exec\(/g, ''))) {
        offenders.push(`${path}: exec-style call`)
      }
    }
    assert.deepEqual(offenders, [])
  })
})
