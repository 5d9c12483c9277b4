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
