// Makes sure a Kubo binary is available before tests or the daemon run: uses the one the
// resolution order finds (DESIGN.md), or builds Kubo into the machine cache with
// scripts/build-kubo.sh. Prints the binary it settled on. Needs `npm run build` first.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { resolveKuboBinary } = await import(join(root, 'dist/src/kubo/binary.js'))
const { loadConfig } = await import(join(root, 'dist/src/config/config.js'))

async function resolve() {
  const config = await loadConfig()
  return resolveKuboBinary({ configured: config.settings['kubo.binary'] })
}

try {
  const kubo = await resolve()
  console.error(`ipfs-kit: using Kubo ${kubo.version} at ${kubo.path} (${kubo.reason})`)
} catch (err) {
  if (err?.name !== 'KuboBinaryNotFoundError' || err.message.includes('does not work')) {
    console.error(`ipfs-kit: ${err.message}${err.hint ? `\n  ${err.hint}` : ''}`)
    process.exit(1)
  }
  console.error('ipfs-kit: no Kubo binary found; building one (once per machine)...')
  const build = spawnSync('bash', [join(root, 'scripts/build-kubo.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (build.status !== 0) {
    console.error('ipfs-kit: could not get a Kubo binary; see the messages above.')
    process.exit(1)
  }
  const kubo = await resolve()
  console.error(`ipfs-kit: using Kubo ${kubo.version} at ${kubo.path} (${kubo.reason})`)
}
