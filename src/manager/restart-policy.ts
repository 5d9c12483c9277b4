// When to restart a supervised process that exited (Kubo, the Cluster peer): at once-ish, backing
// off from 1 s to 60 s while it keeps failing fast, and giving up after six fast failures in a row
// (a process that dies within 30 s of each start will not be fixed by a seventh start).

/** A run shorter than this counts as a fast failure for the give-up rule. */
export const FAST_FAILURE_MS = 30_000
export const MAX_FAST_FAILURES = 5
const BACKOFF_START_MS = 1_000
const BACKOFF_MAX_MS = 60_000

export class RestartPolicy {
  #fastFailures = 0

  /**
   * After a run of `ranForMs`: how long to wait before the next start, or null to give up (then
   * `giveUpReason` says why, with `last`, the last error seen).
   */
  next(ranForMs: number): number | null {
    this.#fastFailures = ranForMs < FAST_FAILURE_MS ? this.#fastFailures + 1 : 0
    if (this.#fastFailures > MAX_FAST_FAILURES) return null
    return Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.max(0, this.#fastFailures - 1))
  }

  get fastFailures(): number {
    return this.#fastFailures
  }

  giveUpReason(what: string, last: string): string {
    return `${what} failed ${MAX_FAST_FAILURES + 1} times in a row within ${FAST_FAILURE_MS / 1000} s of starting; last: ${last}`
  }
}
