#!/usr/bin/env node
// The `ipfs-kit` command. It runs the one-file build of the CLI (dist/src/ipfs-kit.cjs, made by
// scripts/bundle.mjs) with V8's code cache: starting the CLI is most of what a query costs, and
// compiling the same JavaScript on every run is most of that. The CLI's other files (the
// commands, the manager, the libraries loaded only on some paths: dist/src/ipfs-kit-*.cjs) are
// loaded the same way when they are first required. The cache is per user (~/.cache/ipfs-kit/v8),
// per build, per file and per command shape; a cache V8 does not accept, or one that cannot be
// read or written, only means compiling as usual. IPFS_KIT_NO_CODE_CACHE=1 turns it off.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const Module = require('node:module')

const dir = path.join(__dirname, '..', 'dist', 'src')
const main = path.join(dir, 'ipfs-kit.cjs')
let mainStat
try {
  mainStat = fs.statSync(main)
} catch (err) {
  process.stderr.write(
    `ipfs-kit: this copy is not built (${err.code === 'ENOENT' ? `${main} is missing` : err.message})\n  run \`npm run build\` in ${path.join(__dirname, '..')}\n`,
  )
  process.exit(1)
}
const identity = (st) => `${st.size}-${Math.round(st.mtimeMs)}-${st.ino}`
// V8 checks its own version and the source's length, not its content: the build's identity
// (size, time, inode of the main file) and the file's own are in the name, so a rebuilt CLI
// never runs another build's code.
const build = identity(mainStat)

function cacheBase() {
  if (process.env.IPFS_KIT_NO_CODE_CACHE) return null
  const home = process.env.HOME
  const base =
    process.env.IPFS_KIT_CACHE ||
    (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'ipfs-kit') : null) ||
    (home ? path.join(home, '.cache', 'ipfs-kit') : null)
  return base ? path.join(base, 'v8') : null
}
const cacheDir = cacheBase()
// One cache per command shape (command, subcommand, flag names): a cache holds the functions
// its first run compiled, so `pin list --cid` does not get the one `pin list` made.
const words = process.argv
  .slice(2, 4)
  .filter((a) => /^[a-z]{1,20}$/.test(a))
  .concat(process.argv.filter((a) => /^--[a-z-]{1,20}$/.test(a)).sort())
const shape = [...new Set(words)].join('').slice(0, 120) || 'none'

/** Caches to write at exit: the functions this run compiled are in them by then. */
const toWrite = []
process.once('exit', () => {
  if (toWrite.length === 0) return
  try {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 })
    for (const { file, script } of toWrite) {
      const tmp = `${file}.${process.pid}.tmp`
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 })
      fs.renameSync(tmp, file)
    }
  } catch {
    // A read-only or full disk: the next run compiles as usual.
    return
  }
  // A new cache is written only after a build or for a new command shape: then drop the caches
  // of other builds (not touched for a day, so that two installed copies of ipfs-kit do not keep
  // removing each other's), which would otherwise pile up with every upgrade.
  try {
    const dayAgo = Date.now() - 86_400_000
    for (const name of fs.readdirSync(cacheDir)) {
      if (name.includes(`-${build}-`) || !/\.bin$|\.tmp$/.test(name)) continue
      const file = path.join(cacheDir, name)
      if (fs.statSync(file).mtimeMs < dayAgo) fs.unlinkSync(file)
    }
  } catch {
    // Another CLI removed it first, or the folder cannot be listed: nothing lost.
  }
})

const loaded = new Map()
/** Runs one of the CLI's files (CommonJS) with the code cache; its exports. */
function load(file, stat) {
  const known = loaded.get(file)
  if (known) return known.exports
  const source = fs.readFileSync(file, 'utf8')
  const name = path.basename(file, '.cjs')
  const cachePath = cacheDir
    ? path.join(
        cacheDir,
        `${process.version}-${process.arch}-${build}-${name}-${identity(stat)}-${shape}.bin`,
      )
    : null
  let cachedData
  if (cachePath) {
    try {
      cachedData = fs.readFileSync(cachePath)
    } catch {
      cachedData = undefined
    }
  }
  const script = new vm.Script(Module.wrap(source.replace(/^#!.*/, '')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  })
  if (cachePath && (cachedData === undefined || script.cachedDataRejected))
    toWrite.push({ file: cachePath, script })
  const mod = new Module(file, module)
  mod.filename = file
  mod.paths = Module._nodeModulePaths(path.dirname(file))
  loaded.set(file, mod)
  // The CLI's own files, required by relative name, are loaded this same way.
  const req = (id) => {
    if (/^\.\/ipfs-kit-[a-z-]+\.cjs$/.test(id)) {
      const other = path.join(dir, id.slice(2))
      let st
      try {
        st = fs.statSync(other)
      } catch {
        return mod.require(id)
      }
      return load(other, st)
    }
    return mod.require(id)
  }
  script.runInThisContext()(mod.exports, req, mod, file, path.dirname(file))
  return mod.exports
}

// The manager, and its query worker, are started with this same script.
globalThis.__ipfsKitLauncher = __filename
// Which build this is: the running manager answers queries only for the build it runs.
globalThis.__ipfsKitBuild = build
load(main, mainStat)
