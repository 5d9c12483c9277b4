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
          rows
            .filter((r) => r.dag_size_bytes !== null)
            .sort(
              (a, b) =>
                (b.dag_size_bytes as number) - (a.dag_size_bytes as number) || (a.cid < b.cid ? -1 : 1),
            )
            .slice(0, LARGEST_KEPT)
            .map((r) => ({ cid: r.cid, size: r.dag_size_bytes, kind: r.kind })),
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
