// The only way index files are written: the whole file to a temporary file in the same folder,
// fsync, rename over the old one, fsync the folder. A reader sees the old file or the new one.
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { KeyValue } from 'hyparquet'
import type { ColumnSource } from 'hyparquet-writer'
import { ByteWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer'
import { INTEGRITY_KEY, kvDigest, rowGroupDigest, rowGroupRange, structureDigest } from './integrity.js'
import { type IndexFileKind, META } from './layout.js'

export interface IndexFileHeader {
  kind: IndexFileKind
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
}

/**
 * Replaces a file atomically: the bytes go to a temporary file in the same folder, which is
 * fsynced and renamed over the old one, then the folder is fsynced so the rename is durable.
 * A reader sees the old file or the new one, never a mix; a crash leaves at most a temporary
 * file, which the next manager start removes.
 */
async function replaceFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`)
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  // Without this a power cut can bring back the old file.
  const dh = await open(dir, 'r')
  try {
    await dh.sync()
  } finally {
    await dh.close()
  }
}

/** A small JSON side note for readers (such as when an unchanged index was last checked), written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await replaceFileAtomic(path, `${JSON.stringify(value)}\n`)
}

/** The prefix of temporary files, so that a later start can find and remove a crashed write's leftovers. */
export const TEMP_PREFIX = '.tmp-'

/** Writes a Parquet file atomically; returns its size in bytes. */
export async function writeIndexFileAtomic(
  path: string,
  header: IndexFileHeader,
  columns: ColumnSource[],
  rowCount: number,
  options: WriteIndexOptions = {},
): Promise<number> {
  const kv: KeyValue[] = [
    { key: META.kind, value: header.kind },
    { key: META.schemaVersion, value: String(header.schemaVersion) },
    { key: META.writer, value: header.writer },
    { key: META.peerId, value: header.peerId },
    { key: META.kuboVersion, value: header.kuboVersion ?? '' },
    { key: META.generatedAt, value: header.generatedAt.toISOString() },
    { key: META.rowCount, value: String(rowCount) },
    ...Object.entries(header.extra ?? {}).map(([key, value]) => ({ key, value })),
  ]
  const writer = new ByteWriter()
  const parquet = new ParquetWriter({
    writer,
    schema: schemaFromColumnData({ columnData: columns }),
    createdBy: header.writer,
    // Whole values in min/max statistics: a truncated max would be below the real one and
    // make a reader skip the row group that holds the CID it looks for.
    statisticsTruncateLength: Number.POSITIVE_INFINITY,
  })
  parquet.write({
    // No page indexes: readers do not use them, and every byte they do use is checksummed.
    columnData: columns.map(({ name, data }) => ({ name, data, offsetIndex: false })),
    ...(options.rowGroupSize ? { rowGroupSize: options.rowGroupSize } : {}),
  })
  // The row groups are written; their checksums go into the footer, which comes next.
  const written = writer.getBytes()
  const groups = parquet.row_groups.map((group) => {
    const { start, end } = rowGroupRange(group)
    return rowGroupDigest(written.subarray(start, end), group)
  })
  const structure = structureDigest(parquet.schema, parquet.row_groups)
  parquet.kvMetadata = [
    ...kv,
    { key: INTEGRITY_KEY, value: JSON.stringify({ groups, kv: kvDigest(kv), structure }) },
  ]
  parquet.finish()
  const bytes = writer.getBytes()
  await replaceFileAtomic(path, bytes)
  return bytes.byteLength
}
