#!/usr/bin/env node
// Writes docs/api.md from the contract (through the OpenAPI document the server serves). Build first.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { openApiDocument } = await import(new URL('../dist/electron/engine/api/openapi.js', import.meta.url).href);
const { renderApiMarkdown } = await import(new URL('../dist/electron/engine/api/api-docs.js', import.meta.url).href);
const { packageVersion } = await import(new URL('../dist/electron/engine/base/paths.js', import.meta.url).href);
writeFileSync(`${root}docs/api.md`, renderApiMarkdown(openApiDocument(packageVersion)));
process.stderr.write('docs/api.md written\n');
