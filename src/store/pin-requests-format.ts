// The format of pin_requests.parquet: the requests made through the Pinning Service API (what
// Kubo does not keep: who asked for a pin, with which name, origins and meta, when, and how it
// went), one row per request in the order they were made. Written by the manager's pinning
// service (pin-requests-writer.ts), read back by it at start (pin-requests.ts) and by `sql`.
import type { IndexColumn } from './writer.js'

export const PIN_REQUESTS_SCHEMA_VERSION = 1

export const PIN_REQUEST_STATUSES = ['queued', 'pinning', 'pinned', 'failed'] as const
export type PinRequestStatus = (typeof PIN_REQUEST_STATUSES)[number]

export interface PinRequestRow {
  requestid: string
  /** The CID as the client gave it. */
  cid: string
  name: string | null
  origins: string[]
  meta: Record<string, string>
  status: PinRequestStatus
  /** When the request was made, in ms; with created_ns, unique among all requests (the spec pages by it). */
  created: Date
  /** Nanoseconds past `created`'s millisecond, 0-999,999. */
  created_ns: number
  info: Record<string, string>
  updated_at: Date
}

export const PIN_REQUEST_FILE_COLUMNS = [
  { name: 'requestid', type: 'BYTE_ARRAY' },
  { name: 'cid', type: 'BYTE_ARRAY' },
  { name: 'name', type: 'BYTE_ARRAY' },
  { name: 'origins', type: 'BYTE_ARRAY' },
  { name: 'meta', type: 'BYTE_ARRAY' },
  { name: 'status', type: 'BYTE_ARRAY' },
  { name: 'created', type: 'INT64' },
  { name: 'created_ns', type: 'INT64' },
  { name: 'info', type: 'BYTE_ARRAY' },
  { name: 'updated_at', type: 'INT64' },
] as const

/** The longest JSON text of a request's meta (each cell of an index file is capped at 4 KiB). */
export const MAX_META_JSON_BYTES = 4096

export function pinRequestColumns(rows: readonly PinRequestRow[]): IndexColumn[] {
  return [
    { name: 'requestid', data: rows.map((r) => r.requestid), type: 'STRING', statistics: false },
    { name: 'cid', data: rows.map((r) => r.cid), type: 'STRING' },
    { name: 'name', data: rows.map((r) => r.name), type: 'STRING', nullable: true, statistics: false },
    { name: 'origins', data: rows.map((r) => JSON.stringify(r.origins)), type: 'STRING', statistics: false },
    { name: 'meta', data: rows.map((r) => JSON.stringify(r.meta)), type: 'STRING', statistics: false },
    { name: 'status', data: rows.map((r) => r.status), type: 'STRING', statistics: false },
    { name: 'created', data: rows.map((r) => r.created), type: 'TIMESTAMP' },
    { name: 'created_ns', data: rows.map((r) => BigInt(r.created_ns)), type: 'INT64' },
    { name: 'info', data: rows.map((r) => JSON.stringify(r.info)), type: 'STRING', statistics: false },
    { name: 'updated_at', data: rows.map((r) => r.updated_at), type: 'TIMESTAMP' },
  ]
}
