/**
 * The modulator's network (modulator/README.md): a float32 MLP in plain TypeScript that turns one
 * question's features into a scale level for every candidate adapter, a retrieval logit and a
 * retrieval-budget level. Its outputs are added to the prior's logits (the rule-based gate and the
 * fixed scale), and its output layers start at zero, so a fresh network *is* the prior.
 *
 *   h1 = relu(W1·[embedding; context] + Σ T_ngram[g]/√n + T_project[p] + b1)      bottom-up + top-down
 *   h2 = relu(W2·h1 + b2)                                                          the trunk
 *   retrieve = prior_r + w_r·h2 + b_r,   budget = prior_b + W_b·h2 + b_b
 *   per candidate adapter a:
 *     g  = relu(U·features_a + P·centroid_a + T_adapter[name_a] + b_g)
 *     z  = relu(V_h·h2 + V_g·g + V_x·(h2[:G] ⊙ g) + b_z)
 *     levels_a = prior_a + O·z + b_o
 *
 * Most parameters are the hashed tables (word n-grams, projects, adapter names): a forward reads
 * only the rows a question touches: 2.2 M parameters cost ≈ 60 k multiply-adds per question.
 * Trainable the brain.js way: `defaults()`, `forward()`/`backward()` then `step()` (AdamW, lazy on
 * table rows), `toJSON()`/`fromJSON()`.
 */
import { seededRandom } from '../../../shared/random.js';
import { addMatVec, addOuter, addRow, addVecMat, dot, fromBase64, relu, toBase64 } from './kernels.js';

export interface NetworkShape {
  embedding: number;
  context: number;
  adapterFeatures: number;
  ngramBuckets: number;
  projectBuckets: number;
  adapterBuckets: number;
  hidden: number;
  trunk: number;
  adapterHidden: number;
  pair: number;
  levels: number;
  budgetLevels: number;
}

export interface NetworkOptions extends NetworkShape {
  learningRate: number;
  beta1: number;
  beta2: number;
  /** Decoupled weight decay (AdamW), pulling the residual toward the prior. */
  weightDecay: number;
  /** Global gradient-norm clip per step. */
  gradClip: number;
  seed: number;
}

export function defaults(): NetworkOptions {
  return {
    embedding: 384,
    context: 64,
    adapterFeatures: 36,
    ngramBuckets: 32768,
    projectBuckets: 1024,
    adapterBuckets: 256,
    hidden: 64,
    trunk: 64,
    adapterHidden: 48,
    pair: 48,
    levels: 3,
    budgetLevels: 2,
    learningRate: 3e-3,
    beta1: 0.9,
    beta2: 0.999,
    weightDecay: 1e-4,
    gradClip: 5,
    seed: 12,
  };
}

export interface CandidateInput {
  features: Float32Array;
  centroid: Float32Array | null;
  bucket: number;
  /** The prior's logits over the scale levels. */
  prior: Float32Array;
}

export interface NetworkInput {
  embedding: Float32Array | null;
  context: Float32Array;
  ngrams: readonly number[];
  project: number | null;
  retrievePrior: number;
  budgetPrior: Float32Array;
  candidates: readonly CandidateInput[];
}

export interface NetworkOutput {
  retrieve: number;
  budget: Float32Array;
  /** Per candidate: logits over the scale levels. */
  levels: Float32Array[];
}

/** What backward needs of a forward pass. */
export interface ForwardTrace {
  input: NetworkInput;
  h1: Float32Array;
  h2: Float32Array;
  g: Float32Array[];
  z: Float32Array[];
}

/** Gradients of the loss with respect to the outputs. */
export interface OutputGradient {
  retrieve: number;
  budget: Float32Array | null;
  levels: (Float32Array | null)[];
}

type Dense = 'W1' | 'b1' | 'W2' | 'b2' | 'wR' | 'bR' | 'WB' | 'bB' | 'U' | 'P' | 'bG' | 'Vh' | 'Vg' | 'Vx' | 'bZ' | 'O' | 'bO';
type Table = 'Tngram' | 'Tproject' | 'Tadapter';
export type ParamName = Dense | Table;

const tables: readonly Table[] = ['Tngram', 'Tproject', 'Tadapter'];

/** [rows, columns] of every parameter; matrices are stored input-major ([in][out]). */
export function parameterShapes(shape: NetworkShape): Record<ParamName, [number, number]> {
  const { embedding, context, adapterFeatures, hidden, trunk, adapterHidden, pair, levels, budgetLevels } = shape;
  return {
    W1: [embedding + context, hidden],
    b1: [1, hidden],
    Tngram: [shape.ngramBuckets, hidden],
    Tproject: [shape.projectBuckets, hidden],
    W2: [hidden, trunk],
    b2: [1, trunk],
    wR: [trunk, 1],
    bR: [1, 1],
    WB: [trunk, budgetLevels],
    bB: [1, budgetLevels],
    U: [adapterFeatures, adapterHidden],
    P: [embedding, adapterHidden],
    Tadapter: [shape.adapterBuckets, adapterHidden],
    bG: [1, adapterHidden],
    Vh: [trunk, pair],
    Vg: [adapterHidden, pair],
    Vx: [adapterHidden, pair],
    bZ: [1, pair],
    O: [pair, levels],
    bO: [1, levels],
  };
}

/** Layers that start at zero: the outputs, so a fresh network adds nothing to the prior. */
const zeroInit: ReadonlySet<ParamName> = new Set(['wR', 'bR', 'WB', 'bB', 'O', 'bO', 'b1', 'b2', 'bG', 'bZ', 'Tngram', 'Tproject', 'Tadapter']);

export class ModulatorNetwork {
  readonly options: NetworkOptions;
  readonly params: Record<ParamName, Float32Array>;
  private readonly grads: Record<ParamName, Float32Array>;
  private readonly m: Record<ParamName, Float32Array>;
  private readonly v: Record<ParamName, Float32Array>;
  /** Table rows touched since the last step. */
  private readonly touched: Record<Table, Set<number>> = { Tngram: new Set(), Tproject: new Set(), Tadapter: new Set() };
  private steps = 0;
  /** P·centroid per centroid array: a candidate's centroid is fixed per adapter version, so it is projected once until the weights change. */
  private projected = new WeakMap<Float32Array, Float32Array>();

  constructor(options: Partial<NetworkOptions> = {}, params?: Record<ParamName, Float32Array>) {
    this.options = { ...defaults(), ...options };
    if (this.options.trunk < this.options.adapterHidden) throw new Error('trunk must be at least adapterHidden (the interaction term pairs them).');
    const shapes = parameterShapes(this.options);
    const names = Object.keys(shapes) as ParamName[];
    const random = seededRandom(this.options.seed);
    const make = (fill: (name: ParamName, size: number) => Float32Array) =>
      Object.fromEntries(names.map((name) => [name, fill(name, shapes[name][0] * shapes[name][1])])) as Record<ParamName, Float32Array>;
    this.params =
      params ??
      make((name, size) => {
        const values = new Float32Array(size);
        if (zeroInit.has(name)) return values;
        const bound = Math.sqrt(6 / shapes[name][0]) / 2;
        for (let i = 0; i < size; i++) values[i] = (random() * 2 - 1) * bound;
        return values;
      });
    this.grads = make((_, size) => new Float32Array(size));
    this.m = make((_, size) => new Float32Array(size));
    this.v = make((_, size) => new Float32Array(size));
  }

  /** Every trainable number, tables included. */
  get parameterCount(): number {
    return Object.values(this.params).reduce((total, values) => total + values.length, 0);
  }

  forward(input: NetworkInput): { output: NetworkOutput; trace: ForwardTrace } {
    const o = this.options;
    const p = this.params;
    const h1 = Float32Array.from(p.b1);
    if (input.embedding) addVecMat(input.embedding, p.W1, 0, h1);
    addVecMat(input.context, p.W1, o.embedding, h1);
    if (input.ngrams.length) {
      const weight = 1 / Math.sqrt(input.ngrams.length);
      for (const bucket of input.ngrams) addRow(p.Tngram, bucket, weight, h1);
    }
    if (input.project !== null) addRow(p.Tproject, input.project, 1, h1);
    relu(h1);
    const h2 = Float32Array.from(p.b2);
    addVecMat(h1, p.W2, 0, h2);
    relu(h2);

    const retrieve = input.retrievePrior + p.bR[0]! + dot(h2, p.wR);
    const budget = Float32Array.from(input.budgetPrior);
    for (let j = 0; j < o.budgetLevels; j++) budget[j]! += p.bB[j]!;
    addVecMat(h2, p.WB, 0, budget);

    const shared = Float32Array.from(p.bZ);
    addVecMat(h2, p.Vh, 0, shared);
    const g: Float32Array[] = [];
    const z: Float32Array[] = [];
    const levels: Float32Array[] = [];
    for (const candidate of input.candidates) {
      const gi = Float32Array.from(p.bG);
      addVecMat(candidate.features, p.U, 0, gi);
      if (candidate.centroid) {
        let projection = this.projected.get(candidate.centroid);
        if (!projection) {
          projection = new Float32Array(o.adapterHidden);
          addVecMat(candidate.centroid, p.P, 0, projection);
          this.projected.set(candidate.centroid, projection);
        }
        for (let k = 0; k < o.adapterHidden; k++) gi[k]! += projection[k]!;
      }
      addRow(p.Tadapter, candidate.bucket, 1, gi);
      relu(gi);
      const zi = Float32Array.from(shared);
      addVecMat(gi, p.Vg, 0, zi);
      const cross = new Float32Array(o.adapterHidden);
      for (let k = 0; k < o.adapterHidden; k++) cross[k] = h2[k]! * gi[k]!;
      addVecMat(cross, p.Vx, 0, zi);
      relu(zi);
      const li = Float32Array.from(candidate.prior);
      for (let l = 0; l < o.levels; l++) li[l]! += p.bO[l]!;
      addVecMat(zi, p.O, 0, li);
      g.push(gi);
      z.push(zi);
      levels.push(li);
    }
    return { output: { retrieve, budget, levels }, trace: { input, h1, h2, g, z } };
  }

  /** Accumulates the parameters' gradients for one forward pass; `step()` applies them. */
  backward(trace: ForwardTrace, gradient: OutputGradient): void {
    const o = this.options;
    const p = this.params;
    const d = this.grads;
    const { input, h1, h2 } = trace;
    const dh2 = new Float32Array(o.trunk);

    if (gradient.retrieve !== 0) {
      d.bR[0]! += gradient.retrieve;
      for (let k = 0; k < o.trunk; k++) {
        d.wR[k]! += h2[k]! * gradient.retrieve;
        dh2[k]! += p.wR[k]! * gradient.retrieve;
      }
    }
    if (gradient.budget) {
      addOuter(h2, gradient.budget, d.WB);
      for (let j = 0; j < o.budgetLevels; j++) d.bB[j]! += gradient.budget[j]!;
      addMatVec(p.WB, gradient.budget, dh2);
    }

    const dShared = new Float32Array(o.pair);
    input.candidates.forEach((candidate, index) => {
      const dl = gradient.levels[index];
      if (!dl) return;
      const gi = trace.g[index]!;
      const zi = trace.z[index]!;
      addOuter(zi, dl, d.O);
      for (let l = 0; l < o.levels; l++) d.bO[l]! += dl[l]!;
      const dz = new Float32Array(o.pair);
      addMatVec(p.O, dl, dz);
      for (let j = 0; j < o.pair; j++) if (zi[j]! <= 0) dz[j] = 0;
      for (let j = 0; j < o.pair; j++) dShared[j]! += dz[j]!;
      addOuter(gi, dz, d.Vg);
      const cross = new Float32Array(o.adapterHidden);
      for (let k = 0; k < o.adapterHidden; k++) cross[k] = h2[k]! * gi[k]!;
      addOuter(cross, dz, d.Vx);
      const dg = new Float32Array(o.adapterHidden);
      addMatVec(p.Vg, dz, dg);
      const dCross = new Float32Array(o.adapterHidden);
      addMatVec(p.Vx, dz, dCross);
      for (let k = 0; k < o.adapterHidden; k++) {
        dg[k]! += dCross[k]! * h2[k]!;
        dh2[k]! += dCross[k]! * gi[k]!;
        if (gi[k]! <= 0) dg[k] = 0;
      }
      addOuter(candidate.features, dg, d.U);
      if (candidate.centroid) addOuter(candidate.centroid, dg, d.P);
      addRow(dg, 0, 1, d.Tadapter.subarray(candidate.bucket * o.adapterHidden, (candidate.bucket + 1) * o.adapterHidden));
      this.touched.Tadapter.add(candidate.bucket);
      for (let k = 0; k < o.adapterHidden; k++) d.bG[k]! += dg[k]!;
    });
    addOuter(h2, dShared, d.Vh);
    for (let j = 0; j < o.pair; j++) d.bZ[j]! += dShared[j]!;
    addMatVec(p.Vh, dShared, dh2);

    for (let k = 0; k < o.trunk; k++) if (h2[k]! <= 0) dh2[k] = 0;
    addOuter(h1, dh2, d.W2);
    for (let k = 0; k < o.trunk; k++) d.b2[k]! += dh2[k]!;
    const dh1 = new Float32Array(o.hidden);
    addMatVec(p.W2, dh2, dh1);
    for (let k = 0; k < o.hidden; k++) if (h1[k]! <= 0) dh1[k] = 0;
    if (input.embedding) addOuter(input.embedding, dh1, d.W1);
    addOuter(input.context, dh1, d.W1, o.embedding);
    for (let k = 0; k < o.hidden; k++) d.b1[k]! += dh1[k]!;
    if (input.ngrams.length) {
      const weight = 1 / Math.sqrt(input.ngrams.length);
      for (const bucket of input.ngrams) {
        addRow(dh1, 0, weight, d.Tngram.subarray(bucket * o.hidden, (bucket + 1) * o.hidden));
        this.touched.Tngram.add(bucket);
      }
    }
    if (input.project !== null) {
      addRow(dh1, 0, 1, d.Tproject.subarray(input.project * o.hidden, (input.project + 1) * o.hidden));
      this.touched.Tproject.add(input.project);
    }
  }

  /**
   * One AdamW update from the accumulated gradients (scaled by `1/batch`), then clears them. A
   * non-finite gradient is dropped whole and reported: a NaN never reaches the weights.
   */
  step(batch = 1): { applied: boolean; gradNorm: number } {
    const o = this.options;
    const scale = 1 / Math.max(1, batch);
    let squared = 0;
    this.forEachActive((name, start, end) => {
      const grad = this.grads[name];
      let sum = 0;
      for (let i = start; i < end; i++) sum += grad[i]! * grad[i]!;
      squared += sum;
    });
    const norm = Math.sqrt(squared) * scale;
    if (!Number.isFinite(norm)) {
      this.zeroGrad();
      return { applied: false, gradNorm: norm };
    }
    const clip = norm > o.gradClip ? o.gradClip / norm : 1;
    this.steps++;
    const correction1 = 1 - o.beta1 ** this.steps;
    const correction2 = 1 - o.beta2 ** this.steps;
    const rate = o.learningRate;
    const { beta1, beta2, weightDecay } = o;
    const gradScale = scale * clip;
    const stepSize = rate / correction1;
    const root2 = Math.sqrt(correction2);
    this.forEachActive((name, start, end) => {
      const w = this.params[name];
      const grad = this.grads[name];
      const m = this.m[name];
      const v = this.v[name];
      for (let i = start; i < end; i++) {
        const gi = grad[i]! * gradScale;
        const mi = beta1 * m[i]! + (1 - beta1) * gi;
        const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) / root2 + 1e-8) - rate * weightDecay * w[i]!;
      }
    });
    this.zeroGrad();
    this.projected = new WeakMap();
    return { applied: true, gradNorm: norm };
  }

  /** After writing `params` directly (tests, loading): forget the cached centroid projections. */
  weightsChanged(): void {
    this.projected = new WeakMap();
  }

  zeroGrad(): void {
    this.forEachActive((name, start, end) => this.grads[name].fill(0, start, end));
    for (const table of tables) this.touched[table].clear();
  }

  /** Dense parameters whole; tables only on the rows touched since the last step. */
  private forEachActive(visit: (name: ParamName, start: number, end: number) => void): void {
    const shapes = parameterShapes(this.options);
    for (const name of Object.keys(shapes) as ParamName[]) {
      if ((tables as readonly string[]).includes(name)) {
        const width = shapes[name][1];
        for (const row of this.touched[name as Table]) visit(name, row * width, (row + 1) * width);
      } else visit(name, 0, this.params[name].length);
    }
  }

  clone(): ModulatorNetwork {
    return ModulatorNetwork.fromJSON(this.toJSON());
  }

  toJSON(): NetworkJson {
    const { learningRate, beta1, beta2, weightDecay, gradClip, seed, ...shape } = this.options;
    return {
      kind: networkKind,
      format: networkFormat,
      shape,
      training: { learningRate, beta1, beta2, weightDecay, gradClip, seed },
      params: Object.fromEntries(Object.entries(this.params).map(([name, values]) => [name, toBase64(values)])) as Record<ParamName, string>,
    };
  }

  /** Throws on anything but a network of this format and a consistent shape (the caller falls back to the prior). */
  static fromJSON(json: unknown): ModulatorNetwork {
    const data = json as Partial<NetworkJson> | null;
    if (!data || data.kind !== networkKind) throw new Error('not an npllm modulator network');
    if (data.format !== networkFormat) throw new Error(`format ${String(data.format)} is not the supported format ${networkFormat}`);
    if (!data.shape || !data.params || !data.training) throw new Error('shape, training or params missing');
    const options: NetworkOptions = { ...defaults(), ...data.training, ...data.shape };
    const shapes = parameterShapes(options);
    const params = {} as Record<ParamName, Float32Array>;
    for (const name of Object.keys(shapes) as ParamName[]) {
      const encoded = data.params[name];
      if (typeof encoded !== 'string') throw new Error(`parameter ${name} missing`);
      const values = fromBase64(encoded);
      const expected = shapes[name][0] * shapes[name][1];
      if (values.length !== expected) throw new Error(`parameter ${name} has ${values.length} values, its shape needs ${expected}`);
      for (const value of values) if (!Number.isFinite(value)) throw new Error(`parameter ${name} holds a non-finite value`);
      params[name] = values;
    }
    return new ModulatorNetwork(options, params);
  }
}

export const networkKind = 'npllm-modulator';
export const networkFormat = 1;

export interface NetworkJson {
  kind: typeof networkKind;
  format: number;
  shape: NetworkShape;
  training: Omit<NetworkOptions, keyof NetworkShape>;
  params: Record<ParamName, string>;
}
