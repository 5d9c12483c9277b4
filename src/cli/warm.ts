// Warm queries: when a manager runs for this IPFS_KIT_PATH, the CLI hands a query (warm-shape.ts
// says which) to it over the control socket, and the manager's query worker runs the very same
// command code on the very same index files, with its code already loaded and compiled, and
// sends back what the command printed and its exit code. A CLI then costs little more than
// starting Node: no Parquet code to load, no footer to decode cold. The answer is the one the CLI
// would have computed itself, byte for byte (test/warm.test.ts); the worker answers only when its
// environment is the CLI's in everything a query reads (IPFS_*, HOME, XDG_*, locale, TZ). When no
// manager runs, or it declines, is busy past WARM_TIMEOUT_MS, or answers anything unexpected, the
// CLI runs the query itself, as before. IPFS_KIT_NO_WARM=1 turns this off.
import { existsSync } from 'node:fs'
import { ipfsKitPath } from '../config/paths.js'
import { checkShortSocketDir, managerFiles } from '../manager/files.js'

/** How long a CLI waits for the manager before answering on its own. */
export const WARM_TIMEOUT_MS = 1_500

/** Set by ipfs-kit itself in the manager and its worker, or about this run only (IPFS_KIT_DEBUG). */
const OWN = new Set(['IPFS_KIT_DETACHED', 'IPFS_KIT_QUERY_WORKER', 'IPFS_KIT_NO_WARM', 'IPFS_KIT_DEBUG'])

/** The environment a query reads, as sorted entries. */
export function queryEnv(env: NodeJS.ProcessEnv): Array<[string, string]> {
  return Object.entries(env)
    .filter(
      (e): e is [string, string] =>
        typeof e[1] === 'string' &&
        !OWN.has(e[0]) &&
        (e[0].startsWith('IPFS_') ||
          e[0].startsWith('XDG_') ||
          e[0].startsWith('LC_') ||
          e[0] === 'HOME' ||
          e[0] === 'LANG' ||
          e[0] === 'LANGUAGE' ||
          e[0] === 'TZ'),
    )
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/**
 * Why a query from a CLI with this environment and folder must not be answered here, or null.
 * Names the first variable that differs, never its value.
 */
export function envDifference(
  theirs: ReadonlyArray<readonly [string, string]>,
  theirCwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const ours = queryEnv(env)
  const mine = new Map(ours)
  const them = new Map(theirs)
  for (const [k, v] of them) if (mine.get(k) !== v) return `${k} differs`
  for (const [k] of mine) if (!them.has(k)) return `${k} differs`
  // A relative path in them resolves against the folder the command runs in.
  if (ours.some(([k, v]) => k.endsWith('PATH') && !v.startsWith('/')) && theirCwd !== process.cwd())
    return 'a relative path in the environment and another working folder'
  return null
}

/**
 * This build of ipfs-kit (the launcher's identity of its files), or null when run otherwise: a
 * manager started by another build (an upgrade since) does not answer for this one.
 */
export function buildIdentity(): string | null {
  const b = (globalThis as { __ipfsKitBuild?: unknown }).__ipfsKitBuild
  return typeof b === 'string' ? b : null
}

/** What the manager's worker printed for a query, and its exit code (as the worker has it). */
export type WarmReply =
  | { answered: true; code: number; out: string; err: string }
  | { answered: false; why: string }

/**
 * The same as the CLI receives it: a line of JSON, `{"ok":true,"result":{"answered":true,
 * "code","out_bytes","err_bytes"}}`, then the output's bytes, stdout's then stderr's.
 */
export interface WarmAnswer {
  answered: true
  code: number
  out: Uint8Array
  err: Uint8Array
}

/**
 * Asks the running manager to answer argv. Declined (with why) when it cannot: none runs, it
 * declined, it took too long, or the reply is not one; the caller then answers on its own.
 */
export function askManager(
  argv: readonly string[],
  timeoutMs = WARM_TIMEOUT_MS,
): Promise<WarmAnswer | { answered: false; why: string }> {
  let socketPath: string
  try {
    const files = managerFiles(ipfsKitPath())
    // The answer is only as trustworthy as the folder the socket is in.
    checkShortSocketDir(files)
    socketPath = files.socket
  } catch (err) {
    return Promise.resolve({ answered: false, why: (err as Error).message })
  }
  // No socket, no manager: nothing more to load (node:net costs a CLI milliseconds).
  if (!existsSync(socketPath)) return Promise.resolve({ answered: false, why: 'no manager runs here' })
  return import('node:net').then(({ createConnection }) => ask(createConnection(socketPath), argv, timeoutMs))
}

function ask(
  socket: import('node:net').Socket,
  argv: readonly string[],
  timeoutMs: number,
): Promise<WarmAnswer | { answered: false; why: string }> {
  return new Promise((resolve) => {
    const data: Buffer[] = []
    let settled = false
    const done = (answer: WarmAnswer | { answered: false; why: string }) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(
      () => done({ answered: false, why: `the manager did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    )
    socket.on('connect', () =>
      socket.write(
        `${JSON.stringify({ cmd: 'query', argv, env: queryEnv(process.env), cwd: process.cwd(), build: buildIdentity() })}\n`,
      ),
    )
    socket.on('data', (chunk: Buffer) => {
      data.push(chunk)
    })
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done({ answered: false, why: `no manager answers (${err.code ?? err.message})` }),
    )
    socket.on('end', () => {
      const all = Buffer.concat(data)
      const nl = all.indexOf(10)
      let res: { ok?: boolean; result?: Record<string, unknown> }
      try {
        res = JSON.parse(all.subarray(0, nl === -1 ? all.length : nl).toString('utf8'))
      } catch {
        done({ answered: false, why: 'the manager sent no valid reply' })
        return
      }
      const r = res.result
      const body = nl === -1 ? Buffer.alloc(0) : all.subarray(nl + 1)
      const outBytes = r?.out_bytes
      const errBytes = r?.err_bytes
      if (
        res.ok === true &&
        r?.answered === true &&
        Number.isInteger(r.code) &&
        Number.isSafeInteger(outBytes) &&
        Number.isSafeInteger(errBytes) &&
        (outBytes as number) >= 0 &&
        (errBytes as number) >= 0 &&
        (outBytes as number) + (errBytes as number) === body.length
      )
        done({
          answered: true,
          code: r.code as number,
          out: body.subarray(0, outBytes as number),
          err: body.subarray(outBytes as number),
        })
      else
        done({
          answered: false,
          why:
            typeof r?.why === 'string'
              ? r.why
              : r?.answered === true
                ? 'the manager sent an answer of the wrong length'
                : 'the manager does not answer queries',
        })
    })
  })
}
