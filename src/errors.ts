// Every error ipfs-kit reports on purpose: small named classes, each with the exit code the CLI
// uses for it (DESIGN.md: 1 = could not be done, 2 = bad usage or bad input) and a hint that
// tells the user what to do next.

export abstract class IpfsKitError extends Error {
  abstract readonly exitCode: 1 | 2
  /** What the user can do about it; printed on its own line after the message. */
  readonly hint: string | undefined

  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.hint = options?.hint
  }
}

/** Bad usage or bad input on the command line: an unknown flag, an invalid CID, a negative limit. */
export class UsageError extends IpfsKitError {
  override name = 'UsageError'
  readonly exitCode = 2
}

/** A user-written configuration file that cannot be used; the message names the key and line. */
export class ConfigError extends IpfsKitError {
  override name = 'ConfigError'
  readonly exitCode = 2
}

/** No usable Kubo binary was found anywhere in the resolution order. */
export class KuboBinaryNotFoundError extends IpfsKitError {
  override name = 'KuboBinaryNotFoundError'
  readonly exitCode = 1
  /** Every candidate looked at, and why it was not taken. */
  readonly tried: ReadonlyArray<{ source: string; path: string | null; problem?: string }>
  constructor(
    message: string,
    options: {
      hint?: string
      tried?: ReadonlyArray<{ source: string; path: string | null; problem?: string }>
    } = {},
  ) {
    super(message, options)
    this.tried = options.tried ?? []
  }
}

/** Running the Kubo binary itself failed (init, version, daemon start). */
export class KuboProcessError extends IpfsKitError {
  override name = 'KuboProcessError'
  readonly exitCode = 1
}

/** The repository has no `api` file, so no Kubo daemon announces itself for it. */
export class KuboNotRunningError extends IpfsKitError {
  override name = 'KuboNotRunningError'
  readonly exitCode = 1
}

/** The API address does not accept connections (refused, no such socket, unreachable). */
export class KuboUnreachableError extends IpfsKitError {
  override name = 'KuboUnreachableError'
  readonly exitCode = 1
}

/** Kubo did not answer (or stopped streaming) within the time allowed. */
export class KuboTimeoutError extends IpfsKitError {
  override name = 'KuboTimeoutError'
  readonly exitCode = 1
}

/** Kubo answered with an error body: `{"Message","Code","Type"}`. */
export class KuboRpcError extends IpfsKitError {
  override name = 'KuboRpcError'
  readonly exitCode = 1
  constructor(
    readonly command: string,
    readonly status: number,
    readonly kuboMessage: string,
    readonly kuboCode: number | null,
    options?: { hint?: string },
  ) {
    super(`Kubo RPC ${command} failed (HTTP ${status}): ${kuboMessage}`, options)
  }
}

/** A stream that Kubo ended with an `X-Stream-Error` trailer, or that was cut mid-way. */
export class KuboStreamError extends IpfsKitError {
  override name = 'KuboStreamError'
  readonly exitCode = 1
}

/** Kubo (or whatever answers at its address) sent something that is not a valid answer. */
export class KuboResponseError extends IpfsKitError {
  override name = 'KuboResponseError'
  readonly exitCode = 1
}

/** The caller aborted the operation through its AbortSignal. */
export class AbortedError extends IpfsKitError {
  override name = 'AbortedError'
  readonly exitCode = 1
}

/** An index file that a reader refuses; `reason` is the one-line cause shown to the user. */
export class IndexRejectedError extends IpfsKitError {
  override name = 'IndexRejectedError'
  readonly exitCode = 1
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`index file ${file} rejected: ${reason}`)
  }
}
