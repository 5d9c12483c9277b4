// Reads pin_requests.parquet (pin-requests-format.ts), checked like every index file (ipfs-kit's,
// this node's, checksums, valid CIDs) and for sense: unique request ids and creation times, a
// known status, origins, meta and info that are what the API allows.
import { IndexMissingError, IndexRejectedError } from '../errors.js'
import { pinRequestsPath } from './layout.js'
import {
  MAX_META_JSON_BYTES,
  PIN_REQUEST_STATUSES,
  type PinRequestRow,
  type PinRequestStatus,
} from './pin-requests-format.js'
import { openIndexFile, readRows, verifyCidColumns } from './reader.js'

/** Request ids this build makes (random, URL-safe) or takes back from the file. */
export const REQUEST_ID_SHAPE = /^[A-Za-z0-9_-]{8,64}$/

function stringMap(text: unknown, what: string, bad: (why: string) => Error): Record<string, string> {
  if (typeof text !== 'string' || text.length > MAX_META_JSON_BYTES)
    throw bad(`has ${what} that is not JSON text`)
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw bad(`has ${what} that is not JSON`)
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`has ${what} that is not an object`)
  for (const x of Object.values(v))
    if (typeof x !== 'string') throw bad(`has ${what} with a value that is not text`)
  return v as Record<string, string>
}

/** The requests of this node, oldest first; null when there is no file; IndexRejectedError when it cannot be trusted. */
export async function readPinRequests(kitPath: string, peerId: string): Promise<PinRequestRow[] | null> {
  const path = pinRequestsPath(kitPath)
  let file: Awaited<ReturnType<typeof openIndexFile>>
  try {
    file = await openIndexFile(path, 'pin_requests', peerId)
  } catch (err) {
    if (err instanceof IndexMissingError) return null
    throw err
  }
  try {
    await verifyCidColumns(file, 'pin_requests')
    const rows = await readRows(file)
    const ids = new Set<string>()
    const times = new Set<string>()
    const out: PinRequestRow[] = []
    for (const [i, r] of rows.entries()) {
      const bad = (why: string) => new IndexRejectedError(path, `request ${i} ${why}`)
      const requestid = r.requestid
      if (typeof requestid !== 'string' || !REQUEST_ID_SHAPE.test(requestid))
        throw bad('has no valid request id')
      if (ids.has(requestid)) throw bad(`repeats the request id ${requestid}`)
      ids.add(requestid)
      const status = r.status
      if (!(PIN_REQUEST_STATUSES as readonly unknown[]).includes(status)) throw bad('has an unknown status')
      const name = r.name ?? null
      if (name !== null && (typeof name !== 'string' || Buffer.byteLength(name) > 255))
        throw bad('has a name that is not text of at most 255 bytes')
      let origins: unknown
      try {
        origins = JSON.parse(String(r.origins))
      } catch {
        throw bad('has origins that are not JSON')
      }
      if (!Array.isArray(origins) || origins.length > 20 || origins.some((o) => typeof o !== 'string'))
        throw bad('has origins that are not a list of at most 20 addresses')
      const created = r.created
      const ns = typeof r.created_ns === 'bigint' ? Number(r.created_ns) : Number.NaN
      if (!(created instanceof Date) || Number.isNaN(created.getTime()))
        throw bad('has no valid creation time')
      if (!Number.isInteger(ns) || ns < 0 || ns > 999_999)
        throw bad('has a creation time past its millisecond')
      const time = `${created.getTime()}.${ns}`
      if (times.has(time)) throw bad('has the creation time of another request')
      times.add(time)
      const updated = r.updated_at
      if (!(updated instanceof Date) || Number.isNaN(updated.getTime())) throw bad('has no valid update time')
      out.push({
        requestid,
        cid: r.cid as string,
        name,
        origins: origins as string[],
        meta: stringMap(r.meta, 'meta', bad),
        status: status as PinRequestStatus,
        created,
        created_ns: ns,
        info: stringMap(r.info, 'info', bad),
        updated_at: updated,
      })
    }
    return out
  } finally {
    await file.close()
  }
}
