// Writes content.parquet (the manager only; content.ts reads it).
import {
  ACCESS_PATTERNS_NOTE,
  CONTENT_META,
  CONTENT_SCHEMA_VERSION,
  CONTENT_WRITE_OPTIONS,
  type ContentRow,
  contentColumns,
  LARGEST_KEPT,
} from './content-format.js'
import { contentPath } from './layout.js'
import { type IndexFileHeader, type RowSource, writeIndexFileAtomic } from './writer.js'

/** Writes the rows (in CID order, one per CID) atomically. */
export async function writeContentFile(
  kitPath: string,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  rows: readonly ContentRow[],
  pinsetSha256: string | null,
  extra: Record<string, string> = {},
): Promise<void> {
  const source: RowSource = {
    rowCount: rows.length,
    slice: (start, end) => contentColumns(rows.slice(start, end)),
  }
  await writeIndexFileAtomic(
    contentPath(kitPath),
    {
      ...header,
      kind: 'content',
      schemaVersion: CONTENT_SCHEMA_VERSION,
      extra: {
        ...header.extra,
        ...extra,
        [CONTENT_META.examined]: String(rows.length),
        [CONTENT_META.incomplete]: String(rows.filter((r) => r.complete !== true).length),
        [CONTENT_META.largest]: JSON.stringify(
          largest(rows).map((r) => ({ cid: r.cid, size: r.dag_size_bytes, kind: r.kind })),
        ),
        [CONTENT_META.incompleteSample]: JSON.stringify(
          rows
            .filter((r) => r.complete !== true)
            .slice(0, 10)
            .map((r) => ({ cid: r.cid, problem: r.problem })),
        ),
        [CONTENT_META.accessPatterns]: ACCESS_PATTERNS_NOTE,
        ...(pinsetSha256 ? { [CONTENT_META.pinsetSha256]: pinsetSha256 } : {}),
      },
    },
    source,
    CONTENT_WRITE_OPTIONS,
  )
}

/** Largest first, then by CID (the order of `pin list --sort size`); rows with a size only. */
export const bySize = (a: ContentRow, b: ContentRow) =>
  (b.dag_size_bytes as number) - (a.dag_size_bytes as number) || (a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0)

/**
 * The LARGEST_KEPT largest rows with a size, in bySize order: one pass keeping the best few (a
 * sort of a million rows held the manager's event loop for almost half a second).
 */
export function largest(rows: readonly ContentRow[]): ContentRow[] {
  const best: ContentRow[] = []
  for (const r of rows) {
    if (r.dag_size_bytes === null) continue
    if (best.length === LARGEST_KEPT && bySize(r, best[LARGEST_KEPT - 1] as ContentRow) >= 0) continue
    let at = best.length
    while (at > 0 && bySize(r, best[at - 1] as ContentRow) < 0) at--
    best.splice(at, 0, r)
    if (best.length > LARGEST_KEPT) best.pop()
  }
  return best
}
