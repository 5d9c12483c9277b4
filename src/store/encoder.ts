// Encodes an index file, one row group at a time, into bytes: Parquet through hyparquet-writer,
// with the checksums readers verify (integrity.ts). No file system here: writer.ts writes the
// bytes, and encode-worker.ts runs this same encoder in a worker thread for large files, so that
// encoding a row group (70-250 ms at a million rows) never holds up the manager's event loop.
import type { FileMetaData, KeyValue, RowGroup, SchemaElement } from 'hyparquet'
import type { ColumnSource } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter } from 'hyparquet-writer'
import { writeIndexes } from 'hyparquet-writer/src/indexes.js'
import { writeMetadata } from 'hyparquet-writer/src/metadata.js'
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

/**
 * One column of a row group. `pageIndex`: write Parquet's page index for it (each page's min and
 * max, and where each page starts), so that a reader can decode the one page that may hold a value
 * instead of the whole column chunk; 'offset': only where each page starts (the offset index),
 * for a column that is read by row, never searched by value.
 */
export type IndexColumn = ColumnSource & { pageIndex?: boolean | 'offset' }

/** What an encoder needs before its first row group; plain data, so that it can go to a worker. */
export interface EncoderSetup {
  /** The file's key-value metadata, without the integrity record (the encoder adds it). */
  kv: KeyValue[]
  createdBy: string
  schema: SchemaElement[]
  /** Bytes per data page (hyparquet-writer's default is 1 MiB). */
  pageSize?: number
}

/**
 * The bytes of one index file, in order: `group` for each row group, then `finish` for the page
 * indexes and the footer. Each call returns the bytes that follow those returned before, in a
 * buffer that the next call reuses (copy it to keep it).
 */
export class IndexEncoder {
  readonly #setup: EncoderSetup
  readonly #writer = new ByteWriter(1 << 20)
  readonly #parquet: ParquetWriter
  /** The file offset of the writer's first buffered byte. */
  #flushed = 0
  readonly #groups: string[][] = []

  constructor(setup: EncoderSetup) {
    this.#setup = setup
    this.#parquet = new ParquetWriter({
      writer: this.#writer,
      schema: setup.schema,
      createdBy: setup.createdBy,
      // Whole values in min/max statistics: a truncated max would be below the real one and
      // make a reader skip the row group that holds the CID it looks for.
      statisticsTruncateLength: Number.POSITIVE_INFINITY,
    })
  }

  /** The bytes buffered since the last call, and the buffer emptied for the next. */
  #take(): Uint8Array {
    const bytes = this.#writer.getBytes()
    this.#flushed += bytes.length
    this.#writer.index = 0
    return bytes
  }

  /** Encodes one row group and returns its bytes (the magic number first, for the first group). */
  group(columns: IndexColumn[], rowCount: number): Uint8Array {
    this.#parquet.write({
      // Page indexes only where asked for (and checksummed like everything a reader uses).
      columnData: columns.map(({ name, data, statistics, codec, pageIndex }) => ({
        name,
        data,
        columnIndex: pageIndex === true,
        offsetIndex: pageIndex === true || pageIndex === 'offset',
        statistics: statistics ?? true,
        ...(codec ? { codec } : {}),
      })),
      rowGroupSize: rowCount,
      ...(this.#setup.pageSize ? { pageSize: this.#setup.pageSize } : {}),
    })
    // The row group is encoded and still in the buffer: checksum each column chunk.
    const group = this.#parquet.row_groups[this.#parquet.row_groups.length - 1] as RowGroup
    const buffered = this.#writer.getBytes()
    this.#groups.push(
      group.columns.map((_, c) => {
        const range = chunkRange(group, c)
        return chunkDigest(
          buffered.subarray(range.start - this.#flushed, range.end - this.#flushed),
          group,
          c,
        )
      }),
    )
    return this.#take()
  }

  /**
   * What ParquetWriter.finish() does, with the page indexes checksummed in between: they lie after
   * the last row group, and their checksums must be in the footer that follows them.
   */
  finish(): Uint8Array {
    const parquet = this.#parquet
    const writer = this.#writer
    // A file of no rows: the magic number the constructor wrote is still buffered.
    const head = this.#take().slice()
    const tailStart = this.#flushed
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
      groups: this.#groups,
      kv: kvDigest(this.#setup.kv),
      structure: structureDigest(parquet.schema, parquet.row_groups),
      ...(indexes.some((g) => g.some((d) => d !== '')) ? { indexes } : {}),
    }
    // Every query parses the whole footer: leave out encoding_stats (optional; no reader here uses
    // it), a list of structs per column chunk.
    for (const g of parquet.row_groups)
      for (const c of g.columns) if (c.meta_data) delete c.meta_data.encoding_stats
    const metadata: FileMetaData = {
      version: 2,
      created_by: this.#setup.createdBy,
      schema: parquet.schema,
      num_rows: parquet.num_rows,
      row_groups: parquet.row_groups,
      metadata_length: 0,
      key_value_metadata: [...this.#setup.kv, { key: INTEGRITY_KEY, value: JSON.stringify(record) }],
    }
    // metadata_length is what a reader computes, not a field of the footer.
    delete (metadata as Partial<FileMetaData>).metadata_length
    writeMetadata(writer, metadata, Number.POSITIVE_INFINITY)
    writer.appendUint32(0x31524150) // PAR1
    const rest = this.#take()
    if (head.length === 0) return rest
    const all = new Uint8Array(head.length + rest.length)
    all.set(head)
    all.set(rest, head.length)
    return all
  }
}
