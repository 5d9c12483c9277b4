// The CLI beyond its front door (main.ts): every command, and the manager's query worker. A file
// of its own in the build (dist/src/ipfs-kit-cli.cjs), so that a query the running manager
// answers loads none of it.
export { report, runCommand } from './dispatch.js'

/** In the manager's query worker process only: serve the manager's queries (warm-worker.ts). */
export async function serveQueries(): Promise<void> {
  const { serveQueries } = await import('./warm-worker.js')
  serveQueries()
}
