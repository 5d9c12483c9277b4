// The words of the content index that a command line may use: the kinds of content and sizes
// with units. No I/O and no imports: flag parsing loads this and nothing else.

export type ContentKind = 'file' | 'directory' | 'hamt-directory' | 'symlink' | 'raw' | 'dag-cbor' | 'other'
export const CONTENT_KINDS: readonly ContentKind[] = [
  'file',
  'directory',
  'hamt-directory',
  'symlink',
  'raw',
  'dag-cbor',
  'other',
]

/** Sizes in `--min-size`: bytes, or a number with a unit (10KB, 5MiB, 2GB; k/M/G are 1000s, Ki/Mi/Gi 1024s). */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]i?)?[bB]?\s*$/.exec(text)
  if (!m) return null
  const unit = m[2] ?? ''
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[unit.slice(0, 1).toLowerCase()] ?? 0
  const base = unit.endsWith('i') ? 1024 : 1000
  const n = Number(m[1]) * base ** power
  return Number.isFinite(n) ? Math.round(n) : null
}
