// What a Pinning Service API client may send, checked against the spec (v1.0.0): query filters of
// GET /pins and the Pin object of POST. Anything else is a 400 with the spec's Failure body,
// naming the field and the rule; nothing reaches Kubo unchecked.
import { PinningApiError, UsageError } from '../../errors.js'
import { parseUserCid } from '../../pins/cid.js'
import { MAX_META_JSON_BYTES } from '../../store/pin-requests-format.js'
import { parseCreated } from '../pins-view.js'
import type { PinFilters, PinStatusName, TextMatch } from './query.js'
import type { PinInput } from './requests.js'

const STATUSES: readonly PinStatusName[] = ['queued', 'pinning', 'pinned', 'failed']
const MATCHES: readonly TextMatch[] = ['exact', 'iexact', 'partial', 'ipartial']
const MAX_NAME_BYTES = 255
const MAX_CIDS = 10
const MAX_ORIGINS = 20
const MAX_ADDR_BYTES = 1024

const bad = (details: string) => new PinningApiError(400, 'BAD_REQUEST', details)

async function checkedCid(text: string, field: string): Promise<{ cid: string; spellings: string[] }> {
  try {
    return await parseUserCid(text, field)
  } catch (err) {
    if (err instanceof UsageError) throw bad(err.message)
    throw err
  }
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad(`${field} must be an object of text values`)
  for (const [k, v] of Object.entries(value))
    if (typeof v !== 'string') throw bad(`${field}.${k.slice(0, 40)} must be text`)
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_META_JSON_BYTES)
    throw bad(`${field} is larger than ${MAX_META_JSON_BYTES} bytes as JSON`)
  return value as Record<string, string>
}

function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string') throw bad(`${field} must be text`)
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw bad(`${field} is longer than ${MAX_NAME_BYTES} bytes`)
  return name
}

/** The filters of GET /pins from its query string. */
export async function parseFilters(q: URLSearchParams): Promise<PinFilters> {
  const one = (key: string): string | null => {
    const all = q.getAll(key)
    if (all.length > 1) throw bad(`${key} is given more than once`)
    return all[0] ?? null
  }
  let cids: string[][] | null = null
  const cidText = one('cid')
  if (cidText !== null) {
    const list = cidText.split(',')
    if (list.length > MAX_CIDS) throw bad(`cid lists at most ${MAX_CIDS} CIDs, got ${list.length}`)
    cids = []
    for (const c of new Set(list)) cids.push((await checkedCid(c, 'cid')).spellings)
  }
  const nameText = one('name')
  const matchText = one('match')
  if (matchText !== null && !(MATCHES as readonly string[]).includes(matchText))
    throw bad(`match must be one of ${MATCHES.join(', ')}, got ${JSON.stringify(matchText.slice(0, 40))}`)
  const name =
    nameText === null
      ? null
      : { text: checkName(nameText, 'name'), match: (matchText ?? 'exact') as TextMatch }
  const statusText = one('status')
  let status: Set<PinStatusName> = new Set(['pinned'])
  if (statusText !== null) {
    status = new Set()
    for (const s of statusText.split(',')) {
      if (!(STATUSES as readonly string[]).includes(s))
        throw bad(`status must be a list of ${STATUSES.join(', ')}; got ${JSON.stringify(s.slice(0, 40))}`)
      status.add(s as PinStatusName)
    }
  }
  const time = (key: 'before' | 'after') => {
    const text = one(key)
    if (text === null) return null
    const t = parseCreated(text)
    if (!t)
      throw bad(
        `${key} must be an RFC 3339 time like 2020-07-27T17:32:28Z, got ${JSON.stringify(text.slice(0, 40))}`,
      )
    return t
  }
  const limitText = one('limit')
  let limit = 10
  if (limitText !== null) {
    limit = /^\d{1,7}$/.test(limitText) ? Number(limitText) : Number.NaN
    if (!(limit >= 1 && limit <= 1000))
      throw bad(`limit must be a whole number from 1 to 1000, got ${JSON.stringify(limitText.slice(0, 20))}`)
  }
  const metaText = one('meta')
  let meta: Record<string, string> | null = null
  if (metaText !== null) {
    let parsed: unknown
    try {
      parsed = JSON.parse(metaText)
    } catch {
      throw bad('meta must be a JSON object of text values, like {"app_id":"99986338"}')
    }
    meta = stringMap(parsed, 'meta')
  }
  return { cids, name, status, before: time('before'), after: time('after'), meta, limit }
}

/** The Pin object of POST /pins and POST /pins/{requestid}. */
export async function parsePin(body: unknown): Promise<PinInput> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw bad('the body must be a JSON Pin object, like {"cid":"bafy..."}')
  const o = body as Record<string, unknown>
  if (typeof o.cid !== 'string') throw bad('cid is required and must be text')
  await checkedCid(o.cid, 'cid')
  const name = o.name === undefined || o.name === null ? null : checkName(o.name, 'name')
  let origins: string[] = []
  if (o.origins !== undefined && o.origins !== null) {
    if (!Array.isArray(o.origins)) throw bad('origins must be a list of multiaddrs')
    if (o.origins.length > MAX_ORIGINS) throw bad(`origins lists at most ${MAX_ORIGINS} multiaddrs`)
    for (const a of o.origins) {
      if (typeof a !== 'string' || !a.startsWith('/') || Buffer.byteLength(a) > MAX_ADDR_BYTES)
        throw bad(
          `origins must be multiaddrs like /ip4/203.0.113.142/tcp/4001/p2p/<peer id>; got ${JSON.stringify(String(a).slice(0, 60))}`,
        )
    }
    if (new Set(o.origins).size !== o.origins.length) throw bad('origins lists a multiaddr twice')
    origins = o.origins as string[]
  }
  const meta = o.meta === undefined || o.meta === null ? {} : stringMap(o.meta, 'meta')
  return { cid: o.cid, name, origins, meta }
}
