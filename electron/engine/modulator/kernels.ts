/** The network's float32 loops: products skip zero inputs (ReLU outputs, one-hots), tables add rows. */
/** y += x·W[offset .. offset + x.length) rows; zero inputs (ReLU outputs, one-hots) are skipped. */
export function addVecMat(x: Float32Array, w: Float32Array, rowOffset: number, y: Float32Array): void {
  const width = y.length;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    let k = (rowOffset + i) * width;
    let j = 0;
    for (; j + 3 < width; j += 4, k += 4) {
      y[j]! += xi * w[k]!;
      y[j + 1]! += xi * w[k + 1]!;
      y[j + 2]! += xi * w[k + 2]!;
      y[j + 3]! += xi * w[k + 3]!;
    }
    for (; j < width; j++, k++) y[j]! += xi * w[k]!;
  }
}

/** y += W·g for W stored [y.length][g.length]: the gradient flowing back to a layer's input. */
export function addMatVec(w: Float32Array, g: Float32Array, y: Float32Array): void {
  const width = g.length;
  for (let i = 0; i < y.length; i++) {
    let sum = 0;
    const k = i * width;
    for (let j = 0; j < width; j++) sum += w[k + j]! * g[j]!;
    y[i]! += sum;
  }
}

/** dW[offset + i][j] += x[i]·g[j]. */
export function addOuter(x: Float32Array, g: Float32Array, dw: Float32Array, rowOffset = 0): void {
  const width = g.length;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const k = (rowOffset + i) * width;
    for (let j = 0; j < width; j++) dw[k + j]! += xi * g[j]!;
  }
}

/** y += weight · table[row]. */
export function addRow(table: Float32Array, row: number, weight: number, y: Float32Array): void {
  const width = y.length;
  const k = row * width;
  for (let j = 0; j < width; j++) y[j]! += weight * table[k + j]!;
}

export function relu(values: Float32Array): void {
  for (let i = 0; i < values.length; i++) if (!(values[i]! > 0)) values[i] = 0;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

export function toBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function fromBase64(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.byteLength % 4 !== 0) throw new Error('parameter bytes are not float32');
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
