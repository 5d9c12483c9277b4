// This package's version, read once from package.json: the CLI's --version and the `writer`
// recorded in every index file.
import { readFileSync } from 'node:fs'

let cached: string | undefined

export function packageVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version
  return cached
}

export function writerName(): string {
  return `ipfs-kit ${packageVersion()}`
}

/** A path inside this package (its root is two folders up from dist/src, where this module and the CLI bundle sit). */
export function packagePath(relative: string): URL {
  return new URL(`../../${relative}`, import.meta.url)
}
