// Checking a CID a user typed, and the spellings under which Kubo may list the same pin.
import { UsageError } from '../errors.js'

/** Parses a CID from the command line; exit 2 with the bad value named when it is not one. */
export async function parseUserCid(
  text: string,
  what = 'CID',
): Promise<{ cid: string; spellings: string[] }> {
  const shown = text.length > 80 ? `${text.slice(0, 80)}...` : text
  if (text !== text.trim() || text === '') {
    throw new UsageError(`invalid ${what} ${JSON.stringify(shown)}: it is empty or has spaces around it`)
  }
  if (text.includes('/')) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(shown)}: give a CID, not a path`, {
      hint: 'for /ipfs/<cid>/..., pin the CID itself; paths are resolved by `ipfs pin add`',
    })
  }
  const { CID } = await import('multiformats/cid')
  let cid: ReturnType<typeof CID.parse>
  try {
    cid = CID.parse(text)
  } catch (err) {
    throw new UsageError(`invalid ${what} ${JSON.stringify(shown)}: ${(err as Error).message}`)
  }
  const spellings = new Set([text, cid.toString()])
  // A dag-pb/sha2-256 CID has a v0 (Qm...) and a v1 (bafy...) spelling; Kubo lists a pin as it was added.
  if (cid.version === 0) spellings.add(cid.toV1().toString())
  else if (cid.code === 0x70 && cid.multihash.code === 0x12) spellings.add(cid.toV0().toString())
  return { cid: cid.toString(), spellings: [...spellings] }
}
