// `ipfs-kit pin ...`: list pins from the index (falling back to Kubo), add and remove through Kubo.
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'pin',
  summary: 'list, add and remove pins',
  subcommands: {
    list: {
      usage: 'pin list [--limit <n>] [--type recursive|direct] [--cid <cid>] [--name <text>] [--json]',
      summary: 'list pins from the index (or from Kubo when the index cannot be used)',
      options: [
        '--limit <n>       at most n pins (default 100; 0 = all)',
        '--type <t>        recursive or direct',
        '--cid <cid>       only this CID',
        '--name <text>     names containing text',
        '--json            machine-readable output',
      ],
      pendingIssue: 4,
    },
    add: {
      usage: 'pin add <cid> [--name <text>]',
      summary: 'pin through Kubo, then refresh the index',
      pendingIssue: 4,
    },
    rm: { usage: 'pin rm <cid>', summary: 'unpin through Kubo, then refresh the index', pendingIssue: 4 },
  },
}
export default group
