/** The API documentation is derived from the contract: complete, and the written copy is current. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contract, streamingMethods } from '../../../shared/contract.js';
import { packageRoot, packageVersion } from '../base/paths.js';
import { renderApiMarkdown } from './api-docs.js';
import { openApiDocument } from './openapi.js';

const document = openApiDocument(packageVersion);
const paths = document['paths'] as Record<
  string,
  { post: { requestBody: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, unknown> }> } }
>;

describe('the OpenAPI document', () => {
  it('has every contract method, with its request schema and, for streaming methods, the event stream', () => {
    expect(Object.keys(paths).sort()).toEqual(
      Object.keys(contract)
        .map((method) => `/api/${method}`)
        .sort(),
    );
    const ask = paths['/api/chat/ask']!.post;
    expect(ask.requestBody.content['application/json']!.schema).toMatchObject({
      type: 'object',
      required: ['question'],
      properties: { question: { type: 'string' } },
    });
    for (const method of Object.keys(contract)) {
      expect(Object.keys(paths[`/api/${method}`]!.post.responses['200']!.content!).includes('text/event-stream')).toBe(
        (streamingMethods as string[]).includes(method),
      );
    }
  });

  it('is rendered in docs/api.md, which is current (npm run docs:api rewrites it)', () => {
    expect(readFileSync(join(packageRoot, 'docs', 'api.md'), 'utf8')).toBe(renderApiMarkdown(document));
  });
});
