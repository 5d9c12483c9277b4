// Writes pin_requests.parquet (the manager's pinning service only; pin-requests.ts reads it).
import { pinRequestsPath } from './layout.js'
import { PIN_REQUESTS_SCHEMA_VERSION, type PinRequestRow, pinRequestColumns } from './pin-requests-format.js'
import { columnsSource, type IndexFileHeader, writeIndexFileAtomic } from './writer.js'

export async function writePinRequests(
  kitPath: string,
  header: Omit<IndexFileHeader, 'kind' | 'schemaVersion'>,
  rows: readonly PinRequestRow[],
): Promise<void> {
  await writeIndexFileAtomic(
    pinRequestsPath(kitPath),
    { ...header, kind: 'pin_requests', schemaVersion: PIN_REQUESTS_SCHEMA_VERSION },
    columnsSource(pinRequestColumns(rows), rows.length),
  )
}
