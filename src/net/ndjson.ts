// Newline-delimited JSON read from an HTTP answer as its bytes arrive: Kubo's RPC streams and
// IPFS Cluster's REST streams both send one JSON value per line. A line longer than any real
// answer has is refused rather than buffered, so garbage cannot grow in memory.
import type { IncomingMessage } from 'node:http'

/**
 * The longest line a stream may send. Kubo's lines are a pin, a progress count or an event: a few
 * hundred bytes (a pin name is at most 255); Cluster's are a pin with its allocations and the
 * status of each peer. A longer one is not either of them speaking.
 */
export const MAX_NDJSON_LINE_BYTES = 1024 * 1024

/**
 * Yields each line's JSON value. `fail(message)` makes the error thrown for a line that is not
 * JSON or is too long (the caller's own error class, naming its service). `atEnd()` runs when the
 * bytes stop, before a last line without a newline is parsed: the caller throws there when the
 * answer was cut or its trailer reports an error.
 */
export async function* ndjsonValues(
  res: IncomingMessage,
  fail: (message: string) => Error,
  atEnd: () => void,
): AsyncGenerator<unknown> {
  res.setEncoding('utf8')
  let pending = ''
  let lineNo = 0
  const parse = (line: string) => {
    lineNo++
    try {
      return JSON.parse(line)
    } catch {
      throw fail(`has a line that is not JSON (line ${lineNo}): ${JSON.stringify(line.slice(0, 120))}`)
    }
  }
  const tooLong = () =>
    fail(
      `sent a line longer than ${MAX_NDJSON_LINE_BYTES} bytes (line ${lineNo + 1}), which no real answer has`,
    )
  for await (const chunk of res as AsyncIterable<string>) {
    pending += chunk
    let nl = pending.indexOf('\n')
    if (nl === -1) {
      // Characters, not bytes: a UTF-8 character is at most 4 bytes, so this bounds memory too.
      if (pending.length > MAX_NDJSON_LINE_BYTES) throw tooLong()
      continue
    }
    let start = 0
    while (nl !== -1) {
      if (nl - start > MAX_NDJSON_LINE_BYTES) throw tooLong()
      const line = pending.slice(start, nl)
      if (line.trim() !== '') yield parse(line)
      start = nl + 1
      nl = pending.indexOf('\n', start)
    }
    pending = pending.slice(start)
    if (pending.length > MAX_NDJSON_LINE_BYTES) throw tooLong()
  }
  atEnd()
  if (pending.trim() !== '') yield parse(pending)
}
