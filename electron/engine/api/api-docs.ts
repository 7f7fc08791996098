/**
 * docs/api.md, rendered from the OpenAPI document (openapi.ts), so the written API reference
 * cannot drift from the contract: `npm run docs:api` writes it, and a test fails when it is stale.
 */
type JsonSchema = Record<string, unknown>;

function typeOf(schema: JsonSchema): string {
  if (schema['const'] !== undefined) return JSON.stringify(schema['const']);
  if (Array.isArray(schema['enum'])) return (schema['enum'] as unknown[]).map((value) => JSON.stringify(value)).join(' \\| ');
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as JsonSchema[]).map(typeOf).join(' \\| ');
  if (Array.isArray(schema['oneOf'])) return (schema['oneOf'] as JsonSchema[]).map(typeOf).join(' \\| ');
  const type = schema['type'];
  if (Array.isArray(type)) return type.join(' \\| ');
  if (type === 'array') return `${typeOf((schema['items'] as JsonSchema | undefined) ?? {})}[]`;
  if (type === 'object' && schema['properties']) return 'object';
  if (type === 'object' && schema['additionalProperties']) return `map of ${typeOf(schema['additionalProperties'] as JsonSchema)}`;
  return typeof type === 'string' ? type : 'any';
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  for (const [key, label] of [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minimum', '≥'],
    ['maximum', '≤'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
    ['pattern', 'pattern'],
    ['format', 'format'],
  ] as const) {
    const value = schema[key];
    if (typeof value === 'string' || typeof value === 'number') parts.push(key === 'pattern' ? `${label} \`${value}\`` : `${label} ${value}`);
  }
  return parts.join(', ');
}

function fieldTable(schema: JsonSchema): string {
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const names = Object.keys(properties);
  if (names.length === 0) return '_(an empty object: `{}`)_\n';
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  const rows = names.map((name) => {
    const field = properties[name]!;
    const notes = [typeof field['description'] === 'string' ? field['description'].replaceAll('|', '\\|') : '', constraints(field)].filter(Boolean).join(' — ');
    return `| \`${name}\` | ${typeOf(field)} | ${required.has(name) ? 'yes' : ''} | ${notes} |`;
  });
  return ['| field | type | required | notes |', '|---|---|---|---|', ...rows, ''].join('\n');
}

export function renderApiMarkdown(document: JsonSchema): string {
  const info = document['info'] as { title: string; version: string; description: string };
  const paths = document['paths'] as Record<
    string,
    {
      post: {
        operationId: string;
        summary: string;
        requestBody: { content: { 'application/json': { schema: JsonSchema } } };
        responses: { '200': { content: Record<string, { schema: JsonSchema }> } };
      };
    }
  >;
  const lines = [
    `# ${info.title}`,
    '',
    '<!-- Generated from shared/contract.ts by `npm run docs:api`; edit the contract, not this file. -->',
    '',
    info.description,
    '',
    'The machine-readable version is served at `GET /api/openapi.json` (OpenAPI 3.1). Send `Authorization: Bearer <key>` when the server has `server.apiKey` set. Errors answer with a 4xx or 5xx status and `{"error": {"code", "message", "fix"}}`. Methods marked **streams** answer with server-sent events when asked with `Accept: text/event-stream`: their events (`progress`, `token`) and then one `done` (with the result) or `error`.',
    '',
    '| method | what it does |',
    '|---|---|',
    ...Object.values(paths).map(({ post }) => `| [\`${post.operationId}\`](#${post.operationId.replace('/', '')}) | ${post.summary} |`),
    '',
  ];
  for (const [path, { post }] of Object.entries(paths)) {
    const responses = post.responses['200'].content;
    const stream = responses['text/event-stream'];
    lines.push(
      `## ${post.operationId}`,
      '',
      `\`POST ${path}\`${stream ? ' — **streams**' : ''}`,
      '',
      post.summary,
      '',
      '**Request**',
      '',
      fieldTable(post.requestBody.content['application/json'].schema),
      '**Response**',
      '',
      fieldTable(responses['application/json']!.schema),
    );
    if (stream) {
      const kinds = (stream.schema['oneOf'] as JsonSchema[]).map((event) => (event['properties'] as Record<string, JsonSchema>)['type']!['const'] as string);
      lines.push(`**Events**: ${kinds.map((kind) => `\`${kind}\``).join(', ')}`, '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
