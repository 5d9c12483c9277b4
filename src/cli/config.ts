// `ipfs-kit config show`: the effective configuration with each value's origin (default,
// config.yaml with its line, environment variable, flag), the paths in use, the Kubo binary,
// and with --kubo Kubo's own configuration. Secrets are masked.
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

/** Kubo's config with every secret value replaced. */
function maskKuboConfig(config: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(config, (key, value) =>
      /^(AuthSecret|PrivKey|Password|Token|Secret)$/i.test(key) && typeof value === 'string' ? '***' : value,
    ),
  ) as Record<string, unknown>
}

const group: CommandGroup = {
  name: 'config',
  summary: 'show the effective configuration',
  subcommands: {
    show: {
      usage: 'config show [--json] [--kubo]',
      summary: 'each value with its origin (default, config.yaml, environment, flag); secrets masked',
      options: [
        '--json            machine-readable output',
        "--kubo            also Kubo's own configuration (from its RPC API)",
      ],
      async run(args) {
        const { values } = parseFlags('config show', args, { ...JSON_FLAG, kubo: { type: 'boolean' } })
        const { CONFIG_KEYS, displayValue, loadConfig } = await import('../config/config.js')
        const { ipfsRepoPath } = await import('../config/paths.js')
        const config = await loadConfig()
        const ipfsPath = ipfsRepoPath()
        const settings = Object.fromEntries(
          (Object.keys(CONFIG_KEYS) as Array<keyof typeof CONFIG_KEYS>).map((key) => {
            const s = config.settings[key]
            return [
              key,
              {
                value: displayValue(key, s.value),
                origin: s.origin,
                ...(s.source ? { source: s.source } : {}),
                ...(CONFIG_KEYS[key].env ? { env: CONFIG_KEYS[key].env } : {}),
                describe: CONFIG_KEYS[key].describe,
              },
            ]
          }),
        )
        const { resolveKuboBinary } = await import('../kubo/binary.js')
        let kuboBinary: Record<string, unknown>
        try {
          const k = await resolveKuboBinary({ configured: config.settings['kubo.binary'] })
          kuboBinary = { path: k.path, version: k.version, reason: k.reason }
        } catch (err) {
          kuboBinary = { path: null, problem: (err as Error).message }
        }
        let kuboConfig: Record<string, unknown> | undefined
        let kuboProblem: string | undefined
        if (values.kubo) {
          try {
            const { connectKubo } = await import('../kubo/connect.js')
            kuboConfig = maskKuboConfig(await (await connectKubo(config, ipfsPath, 10_000)).configShow())
          } catch (err) {
            kuboProblem = (err as Error).message
          }
        }
        const paths = {
          ipfs_kit_path: config.path,
          ipfs_path: ipfsPath,
          config_file: config.file,
          config_file_found: config.fileFound,
        }
        if (values.json) {
          process.stdout.write(
            `${JSON.stringify({ settings, paths, kubo_binary: kuboBinary, ...(values.kubo ? { kubo_config: kuboConfig ?? null, ...(kuboProblem ? { kubo_config_problem: kuboProblem } : {}) } : {}) }, null, 2)}\n`,
          )
        } else {
          const width = Math.max(...Object.keys(settings).map((k) => k.length))
          const lines = ['Settings (value, then where it comes from):']
          for (const [key, s] of Object.entries(settings)) {
            lines.push(
              `  ${key.padEnd(width)}  ${s.value === null ? '(none)' : String(s.value)}  [${s.origin}${s.source ? `: ${s.source}` : ''}]`,
            )
          }
          lines.push(
            '',
            'Paths:',
            `  IPFS_KIT_PATH  ${paths.ipfs_kit_path}`,
            `  IPFS_PATH      ${paths.ipfs_path}`,
            `  config file    ${paths.config_file}${paths.config_file_found ? '' : ' (absent: defaults apply)'}`,
            '',
            `Kubo binary: ${kuboBinary.path ? `${kuboBinary.path} (${kuboBinary.version}, ${kuboBinary.reason})` : `none: ${kuboBinary.problem}`}`,
          )
          if (values.kubo) {
            lines.push(
              '',
              "Kubo's configuration:",
              kuboConfig ? JSON.stringify(kuboConfig, null, 2) : `  not available: ${kuboProblem}`,
            )
          }
          process.stdout.write(`${lines.join('\n')}\n`)
        }
        return values.kubo && !kuboConfig ? 1 : 0
      },
    },
  },
}
export default group
