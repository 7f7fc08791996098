/**
 * The HTTP API documented from the contract's own definitions (GET /api/openapi.json, and
 * docs/api.md rendered from it by `npm run docs:api`): every method's request and response
 * schemas, which methods stream and what their events carry, the errors, and the API key.
 */
import { z } from 'zod';
import { contract, progressSchema, serializedErrorSchema, type ApiMethod } from '../../../shared/contract.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const errorResponse = {
  description: 'The request was refused or failed: the error names the problem (`message`) and what to do (`fix`).',
  content: { 'application/json': { schema: { type: 'object', properties: { error: { $ref: '#/components/schemas/Error' } }, required: ['error'] } } },
};

function streamSchema(method: ApiMethod, kinds: readonly string[]): JsonSchema {
  const events: JsonSchema[] = [];
  if (kinds.includes('progress'))
    events.push({
      type: 'object',
      properties: { type: { const: 'progress' }, progress: { $ref: '#/components/schemas/Progress' } },
      required: ['type', 'progress'],
    });
  if (kinds.includes('token')) events.push({ type: 'object', properties: { type: { const: 'token' }, text: { type: 'string' } }, required: ['type', 'text'] });
  events.push({ type: 'object', properties: { type: { const: 'done' }, result: schemaOf(contract[method].response, 'output') }, required: ['type', 'result'] });
  events.push({ type: 'object', properties: { type: { const: 'error' }, error: { $ref: '#/components/schemas/Error' } }, required: ['type', 'error'] });
  return { description: 'Server-sent events, one JSON object per `data:` line, ending with one `done` or `error`.', oneOf: events };
}

export function openApiDocument(version: string): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const method of Object.keys(contract) as ApiMethod[]) {
    const definition = contract[method];
    const kinds = 'stream' in definition ? (definition.stream as readonly string[]) : [];
    const json = { schema: schemaOf(definition.response, 'output') };
    paths[`/api/${method}`] = {
      post: {
        operationId: method,
        summary: definition.summary,
        tags: [method.split('/')[0]],
        requestBody: { required: true, content: { 'application/json': { schema: schemaOf(definition.request, 'input') } } },
        responses: {
          '200': {
            description: kinds.length ? "The result as JSON, or with `Accept: text/event-stream` the method's events." : 'The result.',
            content: { 'application/json': json, ...(kinds.length ? { 'text/event-stream': { schema: streamSchema(method, kinds) } } : {}) },
          },
          '4XX': errorResponse,
          '5XX': errorResponse,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'npllm API',
      version,
      description:
        'The typed contract of the npllm engine (shared/contract.ts), as `POST /api/<domain>/<action>` with a JSON body. The OpenAI-compatible endpoints are `POST /v1/chat/completions` and `GET /v1/models`; `GET /health` reports status.',
    },
    servers: [{ url: 'http://127.0.0.1:7411' }],
    security: [{}, { apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'Required on every request but /health when server.apiKey (NPLLM_API_KEY) is set.' },
      },
      schemas: { Error: schemaOf(serializedErrorSchema, 'output'), Progress: schemaOf(progressSchema, 'output') },
    },
    paths,
  };
}
