// `ipfs-kit daemon ...`: the manager's life (start, attach, stop) and its status.
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'daemon',
  summary: 'run the manager that supervises Kubo and keeps the index current',
  subcommands: {
    start: {
      usage: 'daemon start [--foreground] [--interval <s>] [--offline]',
      summary:
        'start Kubo (or attach to a running one) and background indexing; returns once the first index is written',
      options: [
        '--foreground      stay in the foreground instead of detaching',
        '--interval <s>    seconds between index cycles (default 30)',
        '--offline         run Kubo without network (online-only state is null)',
      ],
      pendingIssue: 3,
    },
    stop: {
      usage: 'daemon stop',
      summary: 'stop indexing and the Kubo the manager started',
      pendingIssue: 3,
    },
    restart: { usage: 'daemon restart', summary: 'stop, then start', pendingIssue: 3 },
    status: {
      usage: 'daemon status [--json]',
      summary: 'manager, Kubo, index, network and storage at a glance',
      options: ['--json            machine-readable output'],
      pendingIssue: 5,
    },
    logs: { usage: 'daemon logs [-f]', summary: "read the manager's log", pendingIssue: 3 },
  },
}
export default group
