// `ipfs-kit index ...`: pause, resume and refresh the manager's background indexing.
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'index',
  summary: 'control background indexing in the running manager',
  subcommands: {
    start: { usage: 'index start', summary: 'resume background indexing', pendingIssue: 3 },
    stop: { usage: 'index stop', summary: 'pause background indexing', pendingIssue: 3 },
    refresh: {
      usage: 'index refresh',
      summary: 'update the index now and wait until the new files are in place',
      pendingIssue: 3,
    },
    status: {
      usage: 'index status [--json]',
      summary: 'running or paused, interval, last update, errors',
      pendingIssue: 3,
    },
  },
}
export default group
