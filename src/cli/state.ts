// `ipfs-kit state [area]`: the full snapshot of the node's system, network, storage or files state.
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'state',
  summary: "the node's state as last indexed",
  subcommands: {
    '': {
      usage: 'state [system|network|storage|files] [--json]',
      summary: 'the latest snapshot of one area, or all of them',
      options: ['--json            machine-readable output'],
      pendingIssue: 5,
    },
  },
}
export default group
