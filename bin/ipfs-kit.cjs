#!/usr/bin/env node
// The `ipfs-kit` command. It runs the one-file build of the CLI (dist/src/ipfs-kit.cjs, made by
// scripts/bundle.mjs) with V8's code cache: starting the CLI is most of what a query costs, and
// compiling the same 700 KB of JavaScript on every run is most of that. The cache is per user
// (~/.cache/ipfs-kit/v8), per build and per command group; a cache V8 does not accept, or one
// that cannot be read or written, only means compiling as usual. IPFS_KIT_NO_CODE_CACHE=1
// turns it off.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const bundle = path.join(__dirname, '..', 'dist', 'src', 'ipfs-kit.cjs')
let source
let stat
try {
  stat = fs.statSync(bundle)
  source = fs.readFileSync(bundle, 'utf8')
} catch (err) {
  process.stderr.write(
    `ipfs-kit: this copy is not built (${err.code === 'ENOENT' ? `${bundle} is missing` : err.message})\n  run \`npm run build\` in ${path.join(__dirname, '..')}\n`,
  )
  process.exit(1)
}

let build
function cacheFile() {
  if (process.env.IPFS_KIT_NO_CODE_CACHE) return null
  const home = process.env.HOME
  const base =
    process.env.IPFS_KIT_CACHE ||
    (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'ipfs-kit') : null) ||
    (home ? path.join(home, '.cache', 'ipfs-kit') : null)
  if (!base) return null
  // V8 checks its own version and the source's length, not its content: the build's identity
  // (size, time, inode) is in the name, so a rebuilt CLI never runs another build's code.
  build = `${stat.size}-${Math.round(stat.mtimeMs)}-${stat.ino}`
  // One cache per command shape (command, subcommand, flag names): a cache holds the functions
  // its first run compiled, so `pin list --cid` does not get the one `pin list` made.
  const words = process.argv
    .slice(2, 4)
    .filter((a) => /^[a-z]{1,20}$/.test(a))
    .concat(process.argv.filter((a) => /^--[a-z-]{1,20}$/.test(a)).sort())
  const shape = [...new Set(words)].join('').slice(0, 120) || 'none'
  return path.join(base, 'v8', `${process.version}-${process.arch}-${build}-${shape}.bin`)
}

const cachePath = cacheFile()
let cachedData
if (cachePath) {
  try {
    cachedData = fs.readFileSync(cachePath)
  } catch {
    cachedData = undefined
  }
}
const script = new vm.Script(Module.wrap(source.replace(/^#!.*/, '')), {
  filename: bundle,
  cachedData,
  importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
})
if (cachePath && (cachedData === undefined || script.cachedDataRejected)) {
  // At exit the functions this command compiled are in the cache too. 'exit', not 'beforeExit':
  // the CLI ends with process.exit() once it has answered.
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(cachePath), { recursive: true, mode: 0o700 })
      const tmp = `${cachePath}.${process.pid}.tmp`
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 })
      fs.renameSync(tmp, cachePath)
    } catch {
      // A read-only or full disk: the next run compiles as usual.
      return
    }
    // A new cache is written only after a build or for a new command shape: then drop the
    // caches of other builds (not touched for a day, so that two installed copies of ipfs-kit
    // do not keep removing each other's), which would otherwise pile up with every upgrade.
    try {
      const dir = path.dirname(cachePath)
      const dayAgo = Date.now() - 86_400_000
      for (const name of fs.readdirSync(dir)) {
        if (name.includes(`-${build}-`) || !/\.bin$|\.tmp$/.test(name)) continue
        const file = path.join(dir, name)
        if (fs.statSync(file).mtimeMs < dayAgo) fs.unlinkSync(file)
      }
    } catch {
      // Another CLI removed it first, or the folder cannot be listed: nothing lost.
    }
  })
}
const mod = new Module(bundle, module)
mod.filename = bundle
mod.paths = Module._nodeModulePaths(path.dirname(bundle))
// The manager is started with this same script.
globalThis.__ipfsKitLauncher = __filename
script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, bundle, path.dirname(bundle))
