/**
 * How one contract method is defined: once, with its request schema (validated at every
 * boundary), its response schema, and — for methods that can stream — the events it sends before
 * its one `done` or `error`. Everything else (the method list, the request validators, which
 * methods stream, the OpenAPI document, the TypeScript types) is derived from these definitions.
 */
import type { z } from 'zod';

/** `progress`: long work reports how far it is; `token`: an answer streams as it is generated. */
export type EventKind = 'progress' | 'token';

export interface MethodDefinition<
  Request extends z.ZodType = z.ZodType,
  Response extends z.ZodType = z.ZodType,
  Events extends readonly EventKind[] = readonly EventKind[],
> {
  /** One line for the API documentation. */
  summary: string;
  request: Request;
  response: Response;
  /** Present when the method can stream (SSE over HTTP, a port in Electron): the events it sends. */
  stream?: Events;
}

export function method<Request extends z.ZodType, Response extends z.ZodType, const Events extends readonly EventKind[] = readonly []>(
  definition: MethodDefinition<Request, Response, Events>,
): MethodDefinition<Request, Response, Events> {
  return definition;
}
