// Which Kubo RPC calls change the pinset, and which CIDs Kubo says they changed, read from its
// own answer as it streams past the proxy: pin add/rm/update, add (pins by default), dag import
// (pins its roots by default), block put and dag put with pin. Only what Kubo confirmed counts:
// the proxy records the CIDs after a 200 answer that ended without an X-Stream-Error trailer.

/** The CIDs one call changed, gathered from the answer line by line. */
export interface PinChangeReader {
  note: 'pin.add' | 'pin.rm' | null
  /** One line of Kubo's answer (NDJSON, or the whole JSON document of a unary call). */
  line(text: string): void
  cids(): string[]
}

/** Lines longer than this are not read for CIDs (Kubo's answers to these calls are short lines). */
export const MAX_WATCHED_LINE = 64 * 1024

const truthy = (v: string | null, byDefault: boolean) => (v === null ? byDefault : v !== 'false' && v !== '0')

function collector(
  note: PinChangeReader['note'],
  pick: (o: Record<string, unknown>) => string[],
): PinChangeReader {
  const found = new Set<string>()
  return {
    note,
    line(text) {
      let o: unknown
      try {
        o = JSON.parse(text)
      } catch {
        return
      }
      if (o === null || typeof o !== 'object' || Array.isArray(o)) return
      for (const c of pick(o as Record<string, unknown>)) if (typeof c === 'string' && c !== '') found.add(c)
    },
    cids: () => [...found],
  }
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
const linkCid = (v: unknown): string[] => {
  const slash = (v as { '/'?: unknown } | null)?.['/']
  return typeof slash === 'string' ? [slash] : []
}

/**
 * The reader for a call that may change pins, or null. `command` is the path after /api/v0/
 * (e.g. `pin/add`), `query` its parameters.
 */
export function pinChangeReader(command: string, query: URLSearchParams): PinChangeReader | null {
  switch (command.replace(/\/+$/, '')) {
    case 'pin/add':
      return collector('pin.add', (o) => strings(o.Pins))
    case 'pin/rm':
      return collector('pin.rm', (o) => strings(o.Pins))
    case 'pin/update':
      // {"Pins":[from, to]}: both may have changed (from is unpinned unless unpin=false).
      return collector(null, (o) => strings(o.Pins))
    case 'add':
      if (!truthy(query.get('pin'), true) || truthy(query.get('only-hash'), false)) return null
      // Each top-level item is pinned: its Name has no '/' (a wrapping directory's is '').
      return collector('pin.add', (o) =>
        typeof o.Hash === 'string' && typeof o.Name === 'string' && !o.Name.includes('/') ? [o.Hash] : [],
      )
    case 'dag/import':
      if (!truthy(query.get('pin-roots'), true)) return null
      return collector('pin.add', (o) => {
        const root = o.Root as { Cid?: unknown; PinErrorMsg?: unknown } | undefined
        return root && !root.PinErrorMsg ? linkCid(root.Cid) : []
      })
    case 'block/put':
      if (!truthy(query.get('pin'), false)) return null
      return collector('pin.add', (o) => (typeof o.Key === 'string' ? [o.Key] : []))
    case 'dag/put':
      if (!truthy(query.get('pin'), false)) return null
      return collector('pin.add', (o) => linkCid(o.Cid))
    default:
      return null
  }
}
