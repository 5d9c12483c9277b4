// The command groups of DESIGN.md, each loaded only when it is run, so that `ipfs-kit --help`
// and every other command pay for nothing they do not use.
import type { CommandGroup } from './group.js'

export interface CommandEntry {
  summary: string
  load: () => Promise<{ default: CommandGroup }>
}

export const COMMANDS: Record<string, CommandEntry> = {
  daemon: {
    summary: 'start, stop, restart the manager and Kubo; show their status',
    load: () => import('./daemon.js'),
  },
  index: {
    summary: 'pause, resume or refresh background indexing; show its status',
    load: () => import('./index-cmd.js'),
  },
  pin: {
    summary: 'list pins from the index; add or remove pins through Kubo',
    load: () => import('./pin.js'),
  },
  config: {
    summary: 'show the effective configuration and where each value comes from',
    load: () => import('./config.js'),
  },
  state: {
    summary: "the node's system, network, storage or files state; its history (state history); its peers",
    load: () => import('./state.js'),
  },
  storage: {
    summary: 'what uses the repository: size, pinned bytes, the largest pins',
    load: () => import('./storage.js'),
  },
  du: {
    summary: 'the size, kind and MIME type of one CID (from the index when known)',
    load: () => import('./du.js'),
  },
  sql: {
    summary: 'DuckDB SQL over the index files, each checked first (optional package @duckdb/node-api)',
    load: () => import('./sql.js'),
  },
  dashboard: {
    summary: "open the manager's web dashboard in a browser, logged in (or print the login link)",
    load: () => import('./dashboard.js'),
  },
  cluster: {
    summary: 'the IPFS Cluster pinset and peers, from the index the manager keeps beside a Cluster peer',
    load: () => import('./cluster.js'),
  },
  doctor: {
    summary: 'check the Kubo binary, the repository, the RPC API and the index files',
    load: () => import('./doctor.js'),
  },
}
