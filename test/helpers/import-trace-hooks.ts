// Module resolution hooks for import-trace: append each resolved URL to a log file.
import { appendFileSync } from 'node:fs'

type NextResolve = (specifier: string, context: unknown) => Promise<{ url: string }>

export async function resolve(
  specifier: string,
  context: unknown,
  next: NextResolve,
): Promise<{ url: string }> {
  const result = await next(specifier, context)
  const log = process.env.IPFS_KIT_TEST_IMPORT_LOG
  if (log) appendFileSync(log, `${result.url}\n`)
  return result
}
