/** The token shapes the emotion scorer passes between its steps (tokens → language → matcher → score). */
export type Language = 'en' | 'pt';
export type TokenKind = 'word' | 'emoji' | 'punctuation' | 'break' | 'other';

export interface RawToken {
  kind: TokenKind;
  /** Words folded (lower case, no accents), emojis reduced to their first code point, emoticons lower-cased. */
  text: string;
  /** Written in capitals ("STILL"), acronyms excepted. */
  caps: boolean;
}

export interface Token extends RawToken {
  /** Letters held down ("perfeitooo", "nãooo"). */
  stretched: boolean;
}
