// Long work on the manager's event loop, in turns: at a million pins, reading back pins.parquet,
// sorting the listing, hashing it and diffing it with the last one take seconds of CPU, and
// meanwhile nothing else of the manager runs (its control socket, the Kubo RPC proxy, the HTTP
// listener, Kubo's health check). A loop that calls its pacer now and then gives the event loop a
// turn (setImmediate: timers and I/O run before it resumes) once its turn has lasted this long.
// Awaiting a promise that is already settled is no turn: it resumes before any I/O.

/** How long a turn of such work may hold the event loop (the target is 100 ms at most). */
export const TURN_MS = 25

export type Pace = () => Promise<void> | undefined

/**
 * A pacer: `await pace()` in a loop yields once TURN_MS have passed since the last yield, and is
 * otherwise free (it returns undefined: the await of it costs a microtask, no clock read is
 * skipped). Call it every few hundred items: reading the clock costs a little.
 */
export function pacer(turnMs = TURN_MS): Pace {
  let since = performance.now()
  return () => {
    const now = performance.now()
    if (now - since < turnMs) return undefined
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now()
        resolve()
      }),
    )
  }
}

/** Items between two calls of the pacer in the loops that use it (a power of two, for a mask). */
export const PACE_EVERY = 1024

/**
 * `array.fill(value)` in turns. A new typed array's memory is mapped by the kernel as it is first
 * written: filling 8 MB at once (a million dates) took 96 ms of page faults in one step on this
 * project's 2-core machine; in pieces between turns it costs the same, spread out.
 */
export async function fillInTurns(array: Float64Array, value: number, pace: Pace): Promise<void> {
  const PIECE = 64 * PACE_EVERY
  for (let start = 0; start < array.length; start += PIECE) {
    array.fill(value, start, Math.min(array.length, start + PIECE))
    await pace()
  }
}

/**
 * Sorts in place, like `order.sort(compare)`, in turns: runs of RUN items sorted one by one, then
 * merged two by two, the pacer called between runs and every PACE_EVERY merged items. Stable
 * within runs and merges alike (ties keep their order, as in Array.prototype.sort).
 */
export async function sortInTurns(
  order: Uint32Array,
  compare: (a: number, b: number) => number,
  pace: Pace,
): Promise<Uint32Array> {
  const n = order.length
  const RUN = 16_384
  for (let start = 0; start < n; start += RUN) {
    order.subarray(start, Math.min(n, start + RUN)).sort(compare)
    await pace()
  }
  if (n <= RUN) return order
  let from: Uint32Array = order
  let to: Uint32Array = new Uint32Array(n)
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width)
      const hi = Math.min(n, lo + 2 * width)
      let i = lo
      let j = mid
      let k = lo
      while (i < mid && j < hi) {
        // <= 0: the left run's item first on a tie (stable).
        to[k++] =
          compare(from[i] as number, from[j] as number) <= 0 ? (from[i++] as number) : (from[j++] as number)
        if ((k & (PACE_EVERY - 1)) === 0) await pace()
      }
      while (i < mid) to[k++] = from[i++] as number
      while (j < hi) to[k++] = from[j++] as number
      await pace()
    }
    ;[from, to] = [to, from]
  }
  if (from !== order) order.set(from)
  return order
}

/**
 * The items in `compare` order, as a new array: their places sorted with sortInTurns, then the
 * array made at its length and filled in turns (an array grown to a million holds the loop up).
 */
export async function sortedInTurns<T>(
  items: { readonly length: number; at(index: number): T | undefined },
  compare: (a: T, b: T) => number,
  pace: Pace,
): Promise<T[]> {
  const order = new Uint32Array(items.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  await sortInTurns(order, (a, b) => compare(items.at(a) as T, items.at(b) as T), pace)
  const out = new Array<T>(order.length)
  for (let k = 0; k < order.length; k++) {
    if ((k & (PACE_EVERY - 1)) === 0) await pace()
    out[k] = items.at(order[k] as number) as T
  }
  return out
}
