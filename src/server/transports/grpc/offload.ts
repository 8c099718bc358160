/**
 * Where a big gRPC message is decoded and converted (requests) or built and encoded (Predict
 * responses): on the event loop below `minBytes` (a worker round trip costs more than it saves),
 * in the server's worker threads (rest/json-workers.ts, the pool REST's JSON uses) from
 * `minBytes` on (--grpc_offload_bytes), so that a flood of big messages never holds the loop
 * that answers probes and small calls. The same functions run on either side: answers and errors
 * are identical.
 */
import type { PredictResponse } from '../../../gen/tensorflow_serving/apis/predict_pb.js';
import type { PredictResult } from '../../api/predict.js';
import type { JsonWorkers } from '../rest/json-workers.js';
import { type BigRequestMethod, type ConvertedRequests, convertRequest } from './big-requests.js';
import { EncodedMessage, type Received } from './codec.js';
import { modelSpecProto, predictResponse } from './responses.js';
import type { HostTensor } from '../../runtime/tensor/host-tensor.js';

/** Measured (docs/hostile-input.md): below this the event loop decodes faster than a round trip. */
export const DEFAULT_GRPC_OFFLOAD_BYTES = 64 * 1024;

export interface GrpcOffloadOptions {
  /** The server's worker threads; absent: everything on the event loop. */
  readonly workers?: JsonWorkers | undefined;
  /** Messages of this many bytes and more (responses: of about) go to a worker. */
  readonly minBytes: number;
}

export class GrpcOffload {
  constructor(private readonly options: GrpcOffloadOptions) {}

  /** convertRequest; big `bytes` are moved to a worker (the caller must not use them again). */
  convert<M extends BigRequestMethod>(method: M, bytes: Buffer, abandoned?: () => boolean): Promise<Received<ConvertedRequests[M]>> {
    const { workers, minBytes } = this.options;
    if (workers && bytes.byteLength >= minBytes) return workers.grpcRequest(method, bytes, abandoned);
    return Promise.resolve(convertRequest(method, bytes));
  }

  /** responses.ts's predictResponse, or the same message encoded in a worker. */
  async predictResponse(result: PredictResult, asTensorContent: boolean, abandoned?: () => boolean): Promise<PredictResponse | EncodedMessage> {
    const { workers, minBytes } = this.options;
    if (!workers || protoWeight(result.outputs) < minBytes) return predictResponse(result, asTensorContent);
    const bytes = await workers.grpcPredictResponse(result, asTensorContent, abandoned);
    const { name, version, signatureName } = result.modelSpec;
    return new EncodedMessage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), modelSpecProto(name, version, signatureName));
  }
}

/** Everything on the event loop (a server without worker threads, tests). */
export const ON_THE_EVENT_LOOP = new GrpcOffload({ minBytes: Number.POSITIVE_INFINITY });

/** About how many bytes the tensors take encoded. */
function protoWeight(tensors: ReadonlyMap<string, HostTensor>): number {
  let weight = 0;
  for (const { data } of tensors.values()) {
    if (!Array.isArray(data)) weight += data.byteLength;
    else for (const bytes of data) weight += bytes.byteLength + 2;
  }
  return weight;
}
