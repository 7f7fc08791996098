/**
 * Small models fall into loops ("No, no, no, …", the same sentence over and over) and would burn
 * the whole token budget on them. The guard watches the token stream and reports a loop once the
 * last tokens are one short cycle repeated: a period of at most `maxPeriod` tokens holding for
 * `max(minSpan, 3 × period)` tokens. Code legitimately repeats lines, but not one short cycle
 * for dozens of tokens in a row.
 */
export interface RepetitionGuardOptions {
  maxPeriod: number;
  minSpan: number;
}

export function defaults(): RepetitionGuardOptions {
  return { maxPeriod: 32, minSpan: 64 };
}

export class RepetitionGuard {
  private readonly options: RepetitionGuardOptions;
  private readonly tokens: number[] = [];

  constructor(options: Partial<RepetitionGuardOptions> = {}) {
    this.options = { ...defaults(), ...options };
  }

  /** Adds generated tokens; true once the output is looping. */
  push(tokens: readonly number[]): boolean {
    this.tokens.push(...tokens);
    const keep = Math.max(this.options.minSpan, 3 * this.options.maxPeriod) + this.options.maxPeriod;
    if (this.tokens.length > 2 * keep) this.tokens.splice(0, this.tokens.length - keep);
    for (let period = 1; period <= this.options.maxPeriod; period++) {
      if (this.repeats(period)) return true;
    }
    return false;
  }

  private repeats(period: number): boolean {
    const span = Math.max(this.options.minSpan, 3 * period);
    const end = this.tokens.length;
    if (end < span + period) return false;
    for (let index = end - span; index < end; index++) {
      if (this.tokens[index] !== this.tokens[index - period]) return false;
    }
    return true;
  }
}
