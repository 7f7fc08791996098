export const chunkLanguages = ['python', 'javascript', 'typescript', 'tsx', 'xml', 'json', 'yaml', 'markdown', 'text'] as const;
export type ChunkLanguage = (typeof chunkLanguages)[number];
/** Languages with a tree-sitter grammar; `text` is cut into windows. */
export type ParsedLanguage = Exclude<ChunkLanguage, 'text'>;

const byExtension: Record<string, ParsedLanguage> = {
  py: 'python',
  pyi: 'python',
  pyw: 'python',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  xml: 'xml',
  xsd: 'xml',
  xsl: 'xml',
  xslt: 'xml',
  json: 'json',
  jsonc: 'json',
  yml: 'yaml',
  yaml: 'yaml',
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
};

/** By extension only: the walker already dropped binaries, and content sniffing costs a read. */
export function detectLanguage(relativePath: string): ChunkLanguage {
  const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'text';
  return byExtension[name.slice(dot + 1).toLowerCase()] ?? 'text';
}
