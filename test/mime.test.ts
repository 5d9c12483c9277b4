// detectMime's text check works on bytes (no decoding, no exception per file): it must say what
// the rule it implements says, decoded: UTF-8 without control characters is text, JSON when the
// whole file parses. Checked against that rule, written the plain way, over many byte strings.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { detectMime } from '../src/content/examine.js'

/** The rule, the plain way: decode (fatal), look for control characters, parse JSON. */
function byTheRule(bytes: Uint8Array, wholeFile: boolean): string {
  for (let cut = 0; cut <= (wholeFile ? 0 : 3); cut++) {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, bytes.length - cut))
    } catch {
      continue
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what marks binary data
    if (/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) break
    if (wholeFile) {
      try {
        JSON.parse(text)
        return 'application/json'
      } catch {
        // text
      }
    }
    return 'text/plain'
  }
  return 'application/octet-stream'
}

const enc = new TextEncoder()
const pieces = [
  'plain words',
  ' ',
  '\n',
  '\t',
  '\r\n',
  '\f',
  '\u000b',
  '\u0000',
  '\u007f',
  '\u001b',
  '{"a": 1}',
  '[1, 2]',
  '"quoted"',
  '-12.5',
  '42',
  'true',
  'null',
  'nope',
  'é',
  '€',
  '😀',
  '\ufeff',
  '{',
  '}',
]

describe('detectMime', () => {
  it('agrees with decoding and a regular expression on every byte string tried', async () => {
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let i = 0; i < 3000; i++) {
      const parts: Uint8Array[] = []
      for (let k = 0, n = 1 + rand(4); k < n; k++)
        parts.push(enc.encode(pieces[rand(pieces.length)] as string))
      let bytes = Buffer.concat(parts)
      // Now and then cut inside a character, or put in a byte no UTF-8 has.
      if (rand(4) === 0 && bytes.length > 1) bytes = bytes.subarray(0, bytes.length - 1 - rand(2))
      if (rand(8) === 0) bytes = Buffer.concat([bytes, Buffer.from([0xff])])
      for (const whole of [true, false]) {
        const got = await detectMime(bytes, whole)
        const want = bytes.length === 0 ? null : byTheRule(bytes, whole)
        assert.equal(got, want, `${JSON.stringify(bytes.toString('latin1'))} (whole file: ${whole})`)
      }
    }
  })

  it('names formats by their magic numbers first, and says null of nothing', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex')
    assert.equal(await detectMime(png, true), 'image/png')
    assert.equal(await detectMime(enc.encode('\ufeff{"bom": true}'), true), 'application/json')
    assert.equal(await detectMime(enc.encode('{"cut": tr'), false), 'text/plain')
    assert.equal(await detectMime(new Uint8Array(0), true), null)
  })
})
