// Builds the one-file CLI that bin/ipfs-kit.cjs runs: src/cli/main.ts and everything it may load
// (hyparquet, multiformats, yaml, our modules) as one CommonJS file, dist/src/ipfs-kit.cjs. One
// file loads in far less time than a hundred ES modules, and lets V8 cache its compiled code.
// It sits in dist/src, beside version.js, so that paths relative to import.meta.url stay right.

import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
/**
 * Libraries loaded only on some paths, each its own file beside the bundles: the YAML parser
 * (only when a config.yaml exists; a quarter of the CLI), and what examines content (MIME
 * detection, DAG-PB and UnixFS decoding: `du` of a CID the index does not know, and the manager).
 */
const LAZY = {
  yaml: 'ipfs-kit-yaml',
  'file-type': 'ipfs-kit-file-type',
  '@ipld/dag-pb': 'ipfs-kit-dag-pb',
  'ipfs-unixfs': 'ipfs-kit-unixfs',
}
function lazyLibraries(b) {
  for (const [pkg, file] of Object.entries(LAZY)) {
    const filter = new RegExp(`^${pkg.replace(/[/.@-]/g, (c) => `\\${c}`)}$`)
    b.onResolve({ filter }, () => ({ path: `./${file}.cjs`, external: true }))
  }
}
const common = {
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
  // import() of a file outside the bundle becomes require(): a real import() from the launcher's
  // vm.Script needs an experimental loader hook that prints a warning.
  supported: { 'dynamic-import': false },
}
// Three files, and the lazy libraries. The front door (main.ts: handing a query to the running
// manager, src/cli/warm.ts) is a file of its own, a few kilobytes: a query the manager answers
// loads nothing else. The commands are the second (ipfs-kit-cli.cjs). The manager (indexer, HTTP
// server, metrics, proxy, content examination, the Parquet writer: about half of all the code)
// is the third, required only by the process that runs the manager: every byte a CLI loads costs
// start-up time (docs/BENCHMARKS.md, "The CLI bundle").
await build({
  ...common,
  entryPoints: [`${root}src/cli/main.ts`],
  outfile: `${root}dist/src/ipfs-kit.cjs`,
  plugins: [
    {
      name: 'cli-bundle',
      setup(b) {
        b.onResolve({ filter: /^\.\/full\.js$/ }, () => ({ path: './ipfs-kit-cli.cjs', external: true }))
      },
    },
  ],
})
await build({
  ...common,
  entryPoints: [`${root}src/cli/full.ts`],
  outfile: `${root}dist/src/ipfs-kit-cli.cjs`,
  plugins: [
    {
      name: 'manager-bundle',
      setup(b) {
        b.onResolve({ filter: /\/manager\/manager\.js$/ }, () => ({
          path: './ipfs-kit-manager.cjs',
          external: true,
        }))
        lazyLibraries(b)
      },
    },
  ],
})
await build({
  ...common,
  entryPoints: [`${root}src/manager/manager.ts`],
  outfile: `${root}dist/src/ipfs-kit-manager.cjs`,
  plugins: [{ name: 'lazy-libraries', setup: lazyLibraries }],
})
// The worker thread that encodes large index files (src/store/encode-worker.ts), beside the
// bundles that write them.
await build({
  ...common,
  entryPoints: [`${root}src/store/encode-worker.ts`],
  outfile: `${root}dist/src/ipfs-kit-encoder.cjs`,
})
await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(LAZY).map(([pkg, file]) => [file, pkg])),
  outdir: `${root}dist/src`,
  outExtension: { '.js': '.cjs' },
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
