// Writes index files: Parquet, one row group at a time, with the checksums readers verify,
// through the atomic replace of atomic.ts. Only the manager imports this module.
import type { FileMetaData, KeyValue, RowGroup } from 'hyparquet'
import type { ColumnSource } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer'
import { writeIndexes } from 'hyparquet-writer/src/indexes.js'
import { writeMetadata } from 'hyparquet-writer/src/metadata.js'
import { replaceFileAtomic } from './atomic.js'
import {
  chunkDigest,
  chunkRange,
  INTEGRITY_KEY,
  type IntegrityRecord,
  kvDigest,
  pageIndexDigest,
  pageIndexRanges,
  structureDigest,
} from './integrity.js'
import { type FileKind, META } from './layout.js'

export interface IndexFileHeader {
  kind: FileKind
  schemaVersion: number
  writer: string
  peerId: string
  kuboVersion: string | null
  generatedAt: Date
  /** More key-value metadata (counts per type, reasons for nulls). */
  extra?: Record<string, string>
}

export interface WriteIndexOptions {
  rowGroupSize?: number
  /**
   * Rows in the first row group, when it should be smaller than the others: `pin list --limit
   * 10` reads (and checks the checksum of) the first group's columns only.
   */
  firstRowGroupSize?: number
  /** Bytes per data page (hyparquet-writer's default is 1 MiB). */
  pageSize?: number
}

/**
 * One column of a row group. `pageIndex`: write Parquet's page index for it (each page's min and
 * max, and where each page starts), so that a reader can decode the one page that may hold a value
 * instead of the whole column chunk; 'offset': only where each page starts (the offset index),
 * for a column that is read by row, never searched by value.
 */
export type IndexColumn = ColumnSource & { pageIndex?: boolean | 'offset' }

/**
 * The rows of a file, handed out one row group at a time, so that a writer never needs a second
 * copy of a million rows: `slice(start, end)` gives the columns of rows [start, end).
 */
export interface RowSource {
  rowCount: number
  slice(start: number, end: number): IndexColumn[]
}

/** A RowSource over whole columns (for small files). */
export function columnsSource(columns: IndexColumn[], rowCount: number): RowSource {
  return {
    rowCount,
    slice: (start, end) =>
      start === 0 && end === rowCount
        ? columns
        : columns.map((c) => ({ ...c, data: c.data.slice(start, end) })),
  }
}

/**
 * Writes a Parquet file atomically; returns its size in bytes. Row groups are encoded one at a
 * time and each goes to the temporary file (and into its checksum) as soon as it is encoded, so
 * the memory this takes is one row group, not the file.
 */
export async function writeIndexFileAtomic(
  path: string,
  header: IndexFileHeader,
  rows: RowSource,
  options: WriteIndexOptions = {},
): Promise<number> {
  const kv: KeyValue[] = [
    { key: META.kind, value: header.kind },
    { key: META.schemaVersion, value: String(header.schemaVersion) },
    { key: META.writer, value: header.writer },
    { key: META.peerId, value: header.peerId },
    { key: META.kuboVersion, value: header.kuboVersion ?? '' },
    { key: META.generatedAt, value: header.generatedAt.toISOString() },
    { key: META.rowCount, value: String(rows.rowCount) },
    ...Object.entries(header.extra ?? {}).map(([key, value]) => ({ key, value })),
  ]
  const groupSize = Math.max(1, options.rowGroupSize ?? rows.rowCount)
  return replaceFileAtomic(path, async (fh) => {
    const writer = new ByteWriter(1 << 20)
    /** The file offset of writer's first buffered byte. */
    let flushed = 0
    const flush = async () => {
      const bytes = writer.getBytes()
      let at = 0
      while (at < bytes.length)
        at += (await fh.write(bytes, at, bytes.length - at, flushed + at)).bytesWritten
      flushed += bytes.length
      writer.index = 0
    }
    const parquet = new ParquetWriter({
      writer,
      schema: schemaFromColumnData({ columnData: rows.slice(0, Math.min(groupSize, rows.rowCount)) }),
      createdBy: header.writer,
      // Whole values in min/max statistics: a truncated max would be below the real one and
      // make a reader skip the row group that holds the CID it looks for.
      statisticsTruncateLength: Number.POSITIVE_INFINITY,
    })
    const groups: string[][] = []
    const firstSize = Math.max(1, Math.min(groupSize, options.firstRowGroupSize ?? groupSize))
    for (let start = 0; start < rows.rowCount; start += start === 0 ? firstSize : groupSize) {
      const end = Math.min(rows.rowCount, start + (start === 0 ? firstSize : groupSize))
      parquet.write({
        // Page indexes only where asked for (and checksummed like everything a reader uses).
        columnData: rows.slice(start, end).map(({ name, data, statistics, codec, pageIndex }) => ({
          name,
          data,
          columnIndex: pageIndex === true,
          offsetIndex: pageIndex === true || pageIndex === 'offset',
          statistics: statistics ?? true,
          ...(codec ? { codec } : {}),
        })),
        rowGroupSize: end - start,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      })
      // The row group is encoded and still in the buffer: checksum each column chunk, then write it out.
      const group = parquet.row_groups[parquet.row_groups.length - 1] as RowGroup
      const buffered = writer.getBytes()
      groups.push(
        group.columns.map((_, c) => {
          const range = chunkRange(group, c)
          return chunkDigest(buffered.subarray(range.start - flushed, range.end - flushed), group, c)
        }),
      )
      await flush()
      // Encoding a row group is synchronous: give the event loop a turn between groups.
      await new Promise((resolve) => setImmediate(resolve))
    }
    // What ParquetWriter.finish() does, with the page indexes checksummed in between: they lie
    // after the last row group, and their checksums must be in the footer that follows them.
    await flush()
    const tailStart = flushed
    writeIndexes(writer, parquet.pendingIndexes)
    const tail = writer.getBytes()
    const indexes = parquet.row_groups.map((g) =>
      g.columns.map((chunk) => {
        // In file order, as the reader reads them.
        const parts = pageIndexRanges(chunk)
          .sort((a, b) => a.start - b.start)
          .map((r) => ({ bytes: tail.subarray(r.start - tailStart, r.end - tailStart), start: r.start }))
        return parts.length > 0 ? pageIndexDigest(parts) : ''
      }),
    )
    const record: IntegrityRecord = {
      groups,
      kv: kvDigest(kv),
      structure: structureDigest(parquet.schema, parquet.row_groups),
      ...(indexes.some((g) => g.some((d) => d !== '')) ? { indexes } : {}),
    }
    // Every query parses the whole footer: leave out encoding_stats (optional; no reader here uses
    // it), a list of structs per column chunk.
    for (const g of parquet.row_groups)
      for (const c of g.columns) if (c.meta_data) delete c.meta_data.encoding_stats
    const metadata: FileMetaData = {
      version: 2,
      created_by: header.writer,
      schema: parquet.schema,
      num_rows: parquet.num_rows,
      row_groups: parquet.row_groups,
      metadata_length: 0,
      key_value_metadata: [...kv, { key: INTEGRITY_KEY, value: JSON.stringify(record) }],
    }
    // metadata_length is what a reader computes, not a field of the footer.
    delete (metadata as Partial<FileMetaData>).metadata_length
    writeMetadata(writer, metadata, Number.POSITIVE_INFINITY)
    writer.appendUint32(0x31524150) // PAR1
    await flush()
    return flushed
  })
}
