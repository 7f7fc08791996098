/** wink-tokenizer 5 ships no types; this is the part of its API the emotion scorer uses. */
declare module 'wink-tokenizer' {
  export type WinkTag =
    | 'word'
    | 'punctuation'
    | 'emoji'
    | 'emoticon'
    | 'number'
    | 'ordinal'
    | 'url'
    | 'email'
    | 'mention'
    | 'hashtag'
    | 'quoted_phrase'
    | 'currency'
    | 'symbol'
    | 'time'
    | 'alien';
  export interface WinkToken {
    value: string;
    tag: WinkTag;
  }
  export interface WinkTokenizer {
    tokenize(sentence: string): WinkToken[];
    /** true enables a token type, false disables it; returns how many types are enabled. */
    defineConfig(config: Partial<Record<WinkTag, boolean>>): number;
  }
  export default function tokenizer(): WinkTokenizer;
}
