// Writes index files: Parquet, one row group at a time, with the checksums readers verify
// (encoder.ts), through the atomic replace of atomic.ts. A large file is encoded in a worker thread
// (encode-worker.ts). Only the manager imports this module.
import { existsSync } from 'node:fs'
import type { KeyValue } from 'hyparquet'
import { schemaFromColumnData } from 'hyparquet-writer'
import { replaceFileAtomic } from './atomic.js'
import type { EncodeReply, EncodeRequest } from './encode-worker.js'
import { type EncoderSetup, type IndexColumn, IndexEncoder } from './encoder.js'
import { type FileKind, META } from './layout.js'

export type { IndexColumn } from './encoder.js'

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
  /**
   * Encode in a worker thread (true) or in this one (false). By default a file of at least
   * WORKER_ROWS rows goes to a worker: a row group of a million-row file takes 70-250 ms to
   * encode, in one synchronous call.
   */
  worker?: boolean
}

/** Files of at least this many rows are encoded in a worker thread (see WriteIndexOptions). */
export const WORKER_ROWS = 20_000

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

/** An encoder here or in a worker; `ahead`: it may be asked for the next group before the last is written. */
interface Encoding {
  ahead: boolean
  group(columns: IndexColumn[], rowCount: number): Promise<Uint8Array>
  finish(): Promise<Uint8Array>
  close(): void
}

function inlineEncoding(setup: EncoderSetup): Encoding {
  const encoder = new IndexEncoder(setup)
  return {
    // Its bytes are in a buffer that the next call reuses.
    ahead: false,
    group: async (columns, rowCount) => encoder.group(columns, rowCount),
    finish: async () => encoder.finish(),
    close: () => {},
  }
}

/** The worker's script: beside the manager's bundle, or beside this module (tests, dist/src/store). */
function encoderScript(): URL {
  const bundled = new URL('./ipfs-kit-encoder.cjs', import.meta.url)
  return existsSync(bundled) ? bundled : new URL('./encode-worker.js', import.meta.url)
}

async function workerEncoding(setup: EncoderSetup): Promise<Encoding> {
  const { Worker } = await import('node:worker_threads')
  const worker = new Worker(encoderScript(), { workerData: setup })
  const waiting: Array<{ resolve: (b: Uint8Array) => void; reject: (e: Error) => void }> = []
  let failed: Error | null = null
  const fail = (err: Error) => {
    failed ??= err
    for (const w of waiting.splice(0)) w.reject(err)
  }
  worker.on('message', (m: EncodeReply) => {
    const w = waiting.shift()
    if ('bytes' in m) w?.resolve(m.bytes)
    else w?.reject(new Error(`encoding the file failed: ${m.error}`))
  })
  worker.on('error', (err) => fail(err))
  worker.on('exit', (code) => fail(new Error(`the encoding worker ended (exit code ${code})`)))
  const ask = (m: EncodeRequest) =>
    failed
      ? Promise.reject(failed)
      : new Promise<Uint8Array>((resolve, reject) => {
          // A value that cannot be cloned throws here, before a reply is waited for.
          worker.postMessage(m)
          waiting.push({ resolve, reject })
        })
  return {
    ahead: true,
    group: (columns, rowCount) => ask({ columns, rowCount }),
    finish: () => ask({ finish: true }),
    close: () => void worker.terminate(),
  }
}

/**
 * Writes a Parquet file atomically; returns its size in bytes. Row groups are encoded one at a
 * time and each goes to the temporary file as soon as it is encoded, so the memory this takes is
 * a row group or two, not the file.
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
  const firstSize = Math.max(1, Math.min(groupSize, options.firstRowGroupSize ?? groupSize))
  const bounds: Array<[number, number]> = []
  for (let start = 0; start < rows.rowCount; start += start === 0 ? firstSize : groupSize)
    bounds.push([start, Math.min(rows.rowCount, start + (start === 0 ? firstSize : groupSize))])
  const setup: EncoderSetup = {
    kv,
    createdBy: header.writer,
    schema: schemaFromColumnData({ columnData: rows.slice(0, Math.min(groupSize, rows.rowCount)) }),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  }
  const encoding =
    (options.worker ?? rows.rowCount >= WORKER_ROWS) ? await workerEncoding(setup) : inlineEncoding(setup)
  const encode = (i: number) => {
    const b = bounds[i]
    return b ? encoding.group(rows.slice(b[0], b[1]), b[1] - b[0]) : encoding.finish()
  }
  try {
    return await replaceFileAtomic(path, async (fh) => {
      let size = 0
      let next: Promise<Uint8Array> | null = null
      for (let i = 0; i <= bounds.length; i++) {
        const bytes = await (next ?? encode(i))
        next = null
        if (encoding.ahead && i < bounds.length) {
          // The worker encodes the next group while this one is written. Its failure is met
          // when it is awaited (or not at all, when the write fails first).
          next = encode(i + 1)
          next.catch(() => {})
        }
        let at = 0
        while (at < bytes.length) at += (await fh.write(bytes, at, bytes.length - at, size + at)).bytesWritten
        size += bytes.length
        // Encoding a row group here is synchronous: give the event loop a turn between groups.
        if (!encoding.ahead && i < bounds.length) await new Promise((resolve) => setImmediate(resolve))
      }
      return size
    })
  } finally {
    encoding.close()
  }
}
