/**
 * Worker-thread side of `WorkerEmbedder`: holds the ONNX sessions (one per model settings) and
 * answers one message per request. ONNX Runtime's inference blocks the thread that calls it, so
 * it runs here and not on the engine's event loop, which keeps streaming answers while a project
 * is indexed.
 */
import { parentPort } from 'node:worker_threads';
import { toNpllmError } from '../../../../shared/errors.js';
import { MiniLmEmbedder } from './minilm-embedder.js';
import type { HostReply, HostRequest } from './worker-embedder.js';

const port = parentPort!;
const embedders = new Map<string, MiniLmEmbedder>();

port.on('message', (request: HostRequest) => {
  const answer = async (): Promise<Float32Array[]> => {
    if (request.type === 'release') {
      const embedder = embedders.get(request.key);
      embedders.delete(request.key);
      await embedder?.dispose();
      return [];
    }
    let embedder = embedders.get(request.key);
    if (!embedder) embedders.set(request.key, (embedder = new MiniLmEmbedder(request.options)));
    return embedder.embed(request.texts);
  };
  answer().then(
    (vectors) => {
      const reply: HostReply = { id: request.id, vectors };
      // Vectors may share a buffer; each buffer moves once.
      port.postMessage(reply, [...new Set(vectors.map((vector) => vector.buffer as ArrayBuffer))]);
    },
    (error: unknown) => port.postMessage({ id: request.id, error: toNpllmError(error).toJSON() } satisfies HostReply),
  );
});
