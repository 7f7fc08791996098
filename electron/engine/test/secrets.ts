/**
 * Fake credentials for tests, built at run time: a token spelled out in a test file would make
 * that file a secret to the walker (and to every scanner a push goes through).
 */
export const alphabets = {
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  upperAndDigits: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  base64: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  hex: '0123456789abcdef',
  digits: '0123456789',
};

/** The same random-looking string for the same seed, so failures reproduce. */
export function fakeToken(alphabet: string, length: number, seed = 1): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  let token = '';
  for (let i = 0; i < length; i++) {
    // xorshift32: plenty of entropy for a token shape, no dependency on Math.random.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    token += alphabet[state % alphabet.length];
  }
  return token;
}
