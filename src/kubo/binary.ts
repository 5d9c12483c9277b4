// Which Kubo binary to run, in DESIGN.md's order: IPFS_KIT_IPFS_BIN, config kubo.binary, the
// optional npm package `kubo`, `ipfs` on PATH, then the project's own cached build. Each
// candidate is checked by running `ipfs version --number`, and every miss is kept to explain.
import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import type { Setting } from '../config/config.js'
import { cachedKuboBinaryPath, type Env, KUBO_BUILD_VERSION } from '../config/paths.js'
import { KuboBinaryNotFoundError } from '../errors.js'

const execFileP = promisify(execFile)

export type KuboBinarySource = 'env' | 'config' | 'npm' | 'path' | 'cache'

export interface KuboCandidate {
  source: KuboBinarySource
  /** null when this source names no file at all (for example nothing on PATH). */
  path: string | null
  /** Why this candidate was not taken; absent for the chosen one. */
  problem?: string
}

export interface ResolvedKubo {
  path: string
  source: KuboBinarySource
  /** `ipfs version --number`. */
  version: string
  /** Why this one: a sentence for `doctor`. */
  reason: string
  /** Every candidate looked at, in order, including the chosen one last. */
  tried: KuboCandidate[]
}

const REASONS: Record<KuboBinarySource, string> = {
  env: 'set by IPFS_KIT_IPFS_BIN',
  config: 'set by kubo.binary in config.yaml',
  npm: 'from the npm package kubo',
  path: 'the first ipfs on PATH',
  cache: `the project's own build of Kubo ${KUBO_BUILD_VERSION} (scripts/build-kubo.sh)`,
}

/** Runs `<bin> version --number`; throws with Kubo's own words when it does not work. */
export async function kuboVersionOf(bin: string, timeoutMs = 15_000): Promise<string> {
  try {
    await access(bin, constants.X_OK)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(code === 'ENOENT' ? 'no such file' : `not executable (${code})`)
  }
  try {
    const { stdout } = await execFileP(bin, ['version', '--number'], { timeout: timeoutMs, env: process.env })
    const version = stdout.trim()
    if (!/^\d+\.\d+\.\d+/.test(version))
      throw new Error(`unexpected output ${JSON.stringify(version.slice(0, 80))}`)
    return version
  } catch (err) {
    const e = err as { stderr?: string; message: string; killed?: boolean }
    if (e.killed) throw new Error(`'version --number' did not finish within ${timeoutMs} ms`)
    throw new Error(`'version --number' failed: ${(e.stderr || e.message).trim().split('\n')[0]}`)
  }
}

function npmKuboPath(): string | null {
  try {
    const require = createRequire(import.meta.url)
    return join(dirname(require.resolve('kubo/package.json')), 'bin', 'ipfs')
  } catch {
    return null
  }
}

export async function onPath(env: Env, name = 'ipfs'): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this folder
    }
  }
  return null
}

/**
 * Finds the Kubo binary to use. `configured` is the effective `kubo.binary` setting (which also
 * carries IPFS_KIT_IPFS_BIN when set). A binary named explicitly (env or config) that does not
 * work is an error, not a reason to quietly run a different Kubo.
 */
export async function resolveKuboBinary(
  options: { env?: Env; configured?: Setting<string | number | boolean | null> } = {},
): Promise<ResolvedKubo> {
  const env = options.env ?? process.env
  const tried: KuboCandidate[] = []
  const configured = options.configured
  const explicit =
    configured &&
    typeof configured.value === 'string' &&
    (configured.origin === 'env' || configured.origin === 'file')
      ? {
          source: configured.origin === 'env' ? ('env' as const) : ('config' as const),
          path: configured.value,
        }
      : env.IPFS_KIT_IPFS_BIN
        ? { source: 'env' as const, path: env.IPFS_KIT_IPFS_BIN }
        : null

  if (explicit) {
    try {
      const version = await kuboVersionOf(explicit.path)
      tried.push({ source: explicit.source, path: explicit.path })
      return {
        path: explicit.path,
        source: explicit.source,
        version,
        reason: REASONS[explicit.source],
        tried,
      }
    } catch (err) {
      const problem = (err as Error).message
      throw new KuboBinaryNotFoundError(
        `the Kubo binary ${explicit.path} (${REASONS[explicit.source]}) does not work: ${problem}`,
        {
          tried: [{ source: explicit.source, path: explicit.path, problem }],
          hint:
            explicit.source === 'env'
              ? 'fix or unset IPFS_KIT_IPFS_BIN'
              : `fix or remove kubo.binary in ${configured?.source ?? 'config.yaml'}`,
        },
      )
    }
  }

  const candidates: Array<{ source: KuboBinarySource; path: string | null; missing: string }> = [
    { source: 'npm', path: npmKuboPath(), missing: 'the optional npm package kubo is not installed' },
    { source: 'path', path: await onPath(env), missing: 'no ipfs on PATH' },
    { source: 'cache', path: cachedKuboBinaryPath(env), missing: '' },
  ]
  for (const c of candidates) {
    if (c.path === null) {
      tried.push({ source: c.source, path: null, problem: c.missing })
      continue
    }
    try {
      const version = await kuboVersionOf(c.path)
      tried.push({ source: c.source, path: c.path })
      return { path: c.path, source: c.source, version, reason: REASONS[c.source], tried }
    } catch (err) {
      const problem =
        c.source === 'cache' && (err as Error).message === 'no such file'
          ? 'not built yet'
          : (err as Error).message
      tried.push({ source: c.source, path: c.path, problem })
    }
  }
  const lines = tried.map((t) => `  ${t.source}: ${t.path ?? '-'}: ${t.problem}`).join('\n')
  throw new KuboBinaryNotFoundError(`no usable Kubo binary found; looked at:\n${lines}`, {
    tried,
    hint: `build one with \`npm run kubo\` (needs Go; builds Kubo ${KUBO_BUILD_VERSION} once per machine), put ipfs on PATH, or set IPFS_KIT_IPFS_BIN`,
  })
}
