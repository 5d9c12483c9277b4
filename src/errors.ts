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

/** An index file that is not there (yet): refused like any other, but for no fault of its own. */
export class IndexMissingError extends IndexRejectedError {
  override name = 'IndexMissingError'
  constructor(file: string) {
    super(file, 'it does not exist')
  }
}

/** Another manager holds the lock of this IPFS_KIT_PATH. */
export class ManagerAlreadyRunningError extends IpfsKitError {
  override name = 'ManagerAlreadyRunningError'
  readonly exitCode = 1
  constructor(readonly pid: number) {
    super(`ipfs-kit daemon is already running (pid ${pid})`, {
      hint: 'stop it with `ipfs-kit daemon stop`, or see it with `ipfs-kit daemon status`',
    })
  }
}

/** No manager listens on the control socket. */
export class ManagerNotRunningError extends IpfsKitError {
  override name = 'ManagerNotRunningError'
  readonly exitCode = 1
}

/** An error the manager reported over the control channel, or no answer from it in time. */
export class ManagerCommandError extends IpfsKitError {
  override name = 'ManagerCommandError'
  readonly exitCode = 1
}

/** An index cycle asked for (`index refresh`, a pin change) did not write every file. */
export class IndexRefreshError extends IpfsKitError {
  override name = 'IndexRefreshError'
  readonly exitCode = 1
}

/** Neither the index nor Kubo's RPC API could answer a pin query. */
export class PinSourceUnavailableError extends IpfsKitError {
  override name = 'PinSourceUnavailableError'
  readonly exitCode = 1
}

/** The index broke after some rows were already streamed out: the output is incomplete. */
export class IndexBrokeMidStreamError extends IpfsKitError {
  override name = 'IndexBrokeMidStreamError'
  readonly exitCode = 1
}

/** A log file that does not exist yet. */
export class LogNotFoundError extends IpfsKitError {
  override name = 'LogNotFoundError'
  readonly exitCode = 1
}

/** The manager's private runtime folder (for the control socket) is not safe to use. */
export class RuntimeDirError extends IpfsKitError {
  override name = 'RuntimeDirError'
  readonly exitCode = 1
}

/** A service unit that cannot be written, or is not ipfs-kit's to replace or remove. */
export class ServiceUnitError extends IpfsKitError {
  override name = 'ServiceUnitError'
  readonly exitCode = 1
}

/** The HTTP listener cannot serve at the configured address (taken, not allowed, not an address). */
export class HttpListenError extends IpfsKitError {
  override name = 'HttpListenError'
  readonly exitCode = 1
}

/** A Pinning Service API request that cannot be served as asked; `reason` is the spec's machine code. */
export class PinningApiError extends IpfsKitError {
  override name = 'PinningApiError'
  readonly exitCode = 1
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 500 | 503,
    readonly reason: string,
    details: string,
  ) {
    super(details)
  }
}

/** No usable IPFS Cluster binary (ipfs-cluster-service) was found. */
export class ClusterBinaryNotFoundError extends IpfsKitError {
  override name = 'ClusterBinaryNotFoundError'
  readonly exitCode = 1
}

/** Running the Cluster peer itself failed (no configuration, exited during start-up, did not answer). */
export class ClusterProcessError extends IpfsKitError {
  override name = 'ClusterProcessError'
  readonly exitCode = 1
}

/** Cluster's REST API does not accept connections, or did not answer in time. */
export class ClusterUnreachableError extends IpfsKitError {
  override name = 'ClusterUnreachableError'
  readonly exitCode = 1
}

/** Cluster's REST API answered with an error (`{"code","message"}`), was cut mid-stream, or sent garbage. */
export class ClusterApiError extends IpfsKitError {
  override name = 'ClusterApiError'
  readonly exitCode = 1
  /** The HTTP status of an error answer; null for a cut stream or garbage. */
  readonly status: number | null
  constructor(message: string, options: { hint?: string; cause?: unknown; status?: number } = {}) {
    super(message, options)
    this.status = options.status ?? null
  }
}
