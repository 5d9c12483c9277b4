// Outside programs some tests need (Debian's prometheus, chromium): .ci/run installs them and sets
// IPFS_KIT_REQUIRE_TOOLS=1, so that a missing one fails CI instead of skipping quietly.
import { existsSync } from 'node:fs'

/** The path when the program is there; false (skip) when not, unless IPFS_KIT_REQUIRE_TOOLS is set (then it throws). */
export function toolOrSkip(path: string): string | false {
  if (existsSync(path)) return path
  if (process.env.IPFS_KIT_REQUIRE_TOOLS)
    throw new Error(`${path} is missing (IPFS_KIT_REQUIRE_TOOLS is set)`)
  return false
}
