// `ipfs-kit config show`: the effective configuration with each value's origin.
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'config',
  summary: 'show the effective configuration',
  subcommands: {
    show: {
      usage: 'config show [--json] [--kubo]',
      summary: 'each value with its origin (default, config.yaml, environment, flag); secrets masked',
      options: [
        '--json            machine-readable output',
        "--kubo            also Kubo's own configuration",
      ],
      pendingIssue: 5,
    },
  },
}
export default group
