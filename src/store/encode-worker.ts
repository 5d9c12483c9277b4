// A worker thread that encodes one index file (encoder.ts) for writer.ts: row groups come in as
// columns, their bytes go back, in order, then the footer's. Its own heap and collections: a
// million-row file's encoding never holds up the manager's event loop.
import { parentPort, workerData } from 'node:worker_threads'
import { type EncoderSetup, type IndexColumn, IndexEncoder } from './encoder.js'

export type EncodeRequest = { columns: IndexColumn[]; rowCount: number } | { finish: true }
export type EncodeReply = { bytes: Uint8Array } | { error: string }

const port = parentPort
if (port) {
  const encoder = new IndexEncoder(workerData as EncoderSetup)
  port.on('message', (m: EncodeRequest) => {
    let bytes: Uint8Array
    try {
      // A copy of its own (the encoder reuses its buffer), handed over without another copy.
      bytes = ('finish' in m ? encoder.finish() : encoder.group(m.columns, m.rowCount)).slice()
    } catch (err) {
      port.postMessage({ error: err instanceof Error ? err.message : String(err) } satisfies EncodeReply)
      return
    }
    port.postMessage({ bytes } satisfies EncodeReply, [bytes.buffer as ArrayBuffer])
  })
}
