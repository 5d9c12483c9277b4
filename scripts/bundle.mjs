// Builds the one-file CLI that bin/ipfs-kit.cjs runs: src/cli/main.ts and everything it may load
// (hyparquet, multiformats, yaml, our modules) as one CommonJS file, dist/src/ipfs-kit.cjs. One
// file loads in far less time than a hundred ES modules, and lets V8 cache its compiled code.
// It sits in dist/src, beside version.js, so that paths relative to import.meta.url stay right.

import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
await build({
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/src/ipfs-kit.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The npm package `kubo` is looked up at run time, where it is installed (optional).
  // So is DuckDB (a native optional dependency, loaded by `ipfs-kit sql` only).
  external: ['kubo', '@duckdb/node-api'],
  define: { 'import.meta.url': '__ipfsKitImportMetaUrl' },
  banner: { js: "var __ipfsKitImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
})

// The dashboard (web/): one script, its stylesheet and uPlot's, and the page, in dist/web. The
// manager serves exactly these files; nothing is fetched from elsewhere (no CDN).
const { copyFile, mkdir } = await import('node:fs/promises')
const web = `${root}dist/web/`
await mkdir(web, { recursive: true })
await build({
  entryPoints: { app: `${root}web/src/main.tsx`, app_css: `${root}web/src/app.css` },
  outdir: web,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'linked',
  logLevel: 'warning',
})
const { rename } = await import('node:fs/promises')
await rename(`${web}app_css.css`, `${web}app.css`)
await copyFile(`${root}node_modules/uplot/dist/uPlot.min.css`, `${web}uplot.css`)
await copyFile(`${root}web/index.html`, `${web}index.html`)
await copyFile(`${root}web/icon.svg`, `${web}icon.svg`)
