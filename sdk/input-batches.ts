/** Limits of {@link inputBatches}. */
export interface InputBatchLimits {
  /** Most inputs per batch. */
  maxCount: number;
  /** Most encoded bytes per batch (a single larger input still makes a batch of one). */
  maxBytes: number;
}

/** One batch: encoded inputs and the index of the first one in the whole stream. */
export interface InputBatch {
  inputs: Uint8Array[];
  firstIndex: number;
}

/**
 * Groups inputs from any iterable or async iterable into batches bounded by count and bytes,
 * encoding each with `encode`. Pulls the next input only when the consumer asks for the next
 * batch, so a slow consumer holds back the producer: at most one batch is in memory.
 */
export async function* inputBatches<T>(
  inputs: Iterable<T> | AsyncIterable<T>,
  encode: (input: T, index: number) => Uint8Array,
  limits: InputBatchLimits,
): AsyncGenerator<InputBatch> {
  let batch: InputBatch = { inputs: [], firstIndex: 0 };
  let bytes = 0;
  let index = 0;
  for await (const input of inputs) {
    const encoded = encode(input, index);
    if (batch.inputs.length > 0 && (batch.inputs.length >= limits.maxCount || bytes + encoded.byteLength > limits.maxBytes)) {
      yield batch;
      batch = { inputs: [], firstIndex: index };
      bytes = 0;
    }
    batch.inputs.push(encoded);
    bytes += encoded.byteLength;
    index++;
  }
  if (batch.inputs.length > 0) yield batch;
}
