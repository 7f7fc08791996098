/**
 * The pure arithmetic around the transformer: which texts share a batch, and how token vectors
 * become one sentence vector (sentence-transformers' Pooling(mean) followed by Normalize).
 */

/**
 * Indices of `lengths` in batches of at most `batchSize`, shortest first, so texts of similar
 * length share a batch and little of it is padding.
 */
export function batchesByLength(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((_, index) => index).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/**
 * Attention-masked mean of each row's token vectors, L2-normalised. `hidden` is the model's
 * [rows, paddedLength, dimensions] output for right-padded rows whose first `lengths[row]` tokens
 * are real. The mean's division by the token count is left out: normalising removes any scale.
 * Sums run in float64: over 256 tokens float32 would round away digits that float32 output keeps.
 */
export function meanPoolNormalize(hidden: Float32Array, lengths: readonly number[], paddedLength: number, dimensions: number): Float32Array[] {
  return lengths.map((length, row) => {
    const sum = new Float64Array(dimensions);
    for (let token = 0; token < length; token++) {
      const offset = (row * paddedLength + token) * dimensions;
      for (let dimension = 0; dimension < dimensions; dimension++) sum[dimension]! += hidden[offset + dimension]!;
    }
    let squares = 0;
    for (const value of sum) squares += value * value;
    // torch.nn.functional.normalize's floor, so an all-zero vector stays zero instead of NaN.
    const scale = 1 / Math.max(Math.sqrt(squares), 1e-12);
    return Float32Array.from(sum, (value) => value * scale);
  });
}
