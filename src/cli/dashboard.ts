// `ipfs-kit dashboard`: opens the manager's web dashboard in a browser, logged in by a one-time
// link the manager makes on request over its control socket (which only this user can reach), so
// that the token never has to be pasted or put in a URL. --print-url prints the link instead
// (for a browser on another machine through an SSH tunnel, or a headless test).
// (node: built-ins are imported statically: the one-file CLI runs in a vm.Script, where a dynamic
// import() of a built-in has no loader.)
import { spawn } from 'node:child_process'
import { JSON_FLAG, parseFlags } from './flags.js'
import type { CommandGroup } from './group.js'

const group: CommandGroup = {
  name: 'dashboard',
  summary: "open the manager's web dashboard (logged in)",
  subcommands: {
    '': {
      usage: 'dashboard [--print-url] [--json]',
      summary:
        'open the dashboard in the default browser with a one-time login link (valid 2 minutes, for one browser)',
      options: [
        '--print-url       print the login link instead of opening a browser',
        '--json            {"url","login_url","expires_in_s"}',
      ],
      async run(args) {
        const { values } = parseFlags('dashboard', args, { ...JSON_FLAG, 'print-url': { type: 'boolean' } })
        const [{ ipfsKitPath }, { managerFiles }, { callControl }] = await Promise.all([
          import('../config/paths.js'),
          import('../manager/files.js'),
          import('../manager/control.js'),
        ])
        const { url, expires_in_s } = (await callControl(managerFiles(ipfsKitPath()), {
          cmd: 'http.login',
        })) as { url: string; expires_in_s: number }
        const base = url.slice(0, url.indexOf('/login'))
        if (values.json) {
          process.stdout.write(`${JSON.stringify({ url: base, login_url: url, expires_in_s })}\n`)
          return 0
        }
        if (values['print-url']) {
          process.stdout.write(`${url}\n`)
          process.stderr.write(
            `(one use, within ${Math.round(expires_in_s / 60)} minutes; the dashboard is ${base}/)\n`,
          )
          return 0
        }
        const opener =
          process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
        const opened = await new Promise<boolean>((resolve) => {
          const child = spawn(opener, [url], { stdio: 'ignore', detached: true })
          child.once('error', () => resolve(false))
          child.once('spawn', () => {
            child.unref()
            resolve(true)
          })
        })
        if (!opened) {
          process.stderr.write(`ipfs-kit: no browser could be opened (${opener}); open this link yourself:\n`)
          process.stdout.write(`${url}\n`)
          return 0
        }
        process.stderr.write(`opened ${base}/ in your browser\n`)
        return 0
      },
    },
  },
}

export default group
