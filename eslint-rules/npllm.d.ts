/** Types of npllm.js (plain JavaScript, so that eslint.config.js can load it without a compiler). */
import type { ESLint } from 'eslint';

declare const plugin: ESLint.Plugin;
export default plugin;
