/**
 * The one contract between the engine and everything that talks to it: the desktop renderer
 * (through the preload bridge), the HTTP API under /api/ and the CLI. Each method is defined once,
 * in its domain's file under contract/ (request schema, response schema, the events it streams);
 * the method list, the validators, which methods stream and the OpenAPI document derive from
 * those definitions.
 */
import type { z } from 'zod';
import { adaptersMethods } from './contract/adapters.js';
import { chatMethods } from './contract/chat.js';
import type { Progress } from './contract/common.js';
import { contextMethods } from './contract/context.js';
import { conversationsMethods } from './contract/conversations.js';
import { dataMethods } from './contract/data.js';
import { feedbackMethods } from './contract/feedback.js';
import { interactionsMethods } from './contract/interactions.js';
import { learningMethods } from './contract/learning.js';
import type { EventKind } from './contract/method.js';
import { modelsMethods } from './contract/models.js';
import { modulatorMethods } from './contract/modulator.js';
import { projectsMethods } from './contract/projects.js';
import { ragMethods } from './contract/rag.js';
import { settingsMethods } from './contract/settings.js';
import { statsMethods } from './contract/stats.js';
import { systemMethods } from './contract/system.js';
import type { SerializedError } from './errors.js';

export * from './contract/adapters.js';
export * from './contract/chat.js';
export * from './contract/common.js';
export * from './contract/context.js';
export * from './contract/conversations.js';
export * from './contract/data.js';
export * from './contract/feedback.js';
export * from './contract/interactions.js';
export * from './contract/learning.js';
export type { EventKind, MethodDefinition } from './contract/method.js';
export * from './contract/models.js';
export * from './contract/modulator.js';
export * from './contract/projects.js';
export * from './contract/rag.js';
export * from './contract/settings.js';
export * from './contract/stats.js';
export * from './contract/system.js';

export const contract = {
  ...chatMethods,
  ...systemMethods,
  ...interactionsMethods,
  ...ragMethods,
  ...contextMethods,
  ...feedbackMethods,
  ...statsMethods,
  ...adaptersMethods,
  ...learningMethods,
  ...modelsMethods,
  ...modulatorMethods,
  ...dataMethods,
  ...conversationsMethods,
  ...projectsMethods,
  ...settingsMethods,
};

export type ApiContract = typeof contract;
export type ApiMethod = keyof ApiContract;
export type ApiRequest<M extends ApiMethod> = z.infer<ApiContract[M]['request']>;
export type ApiResponse<M extends ApiMethod> = z.infer<ApiContract[M]['response']>;

/** The kinds of event a method streams before its end; never for a method that does not stream. */
export type EventKindsOf<M extends ApiMethod> = ApiContract[M] extends { stream?: infer Kinds }
  ? Kinds extends readonly EventKind[]
    ? Kinds[number]
    : never
  : never;

/** Methods that can answer as a stream of events (SSE over HTTP, a port in Electron). */
export type StreamingMethod = { [M in ApiMethod]: [EventKindsOf<M>] extends [never] ? never : M }[ApiMethod];

/** Any stream's events: progress, tokens, then one `done` or `error`. */
export type StreamEvent<Result> =
  { type: 'progress'; progress: Progress } | { type: 'token'; text: string } | { type: 'done'; result: Result } | { type: 'error'; error: SerializedError };

/** What a given method's stream carries: only the event kinds it declares. */
export type StreamEventOf<M extends ApiMethod> =
  | ('progress' extends EventKindsOf<M> ? { type: 'progress'; progress: Progress } : never)
  | ('token' extends EventKindsOf<M> ? { type: 'token'; text: string } : never)
  | { type: 'done'; result: ApiResponse<M> }
  | { type: 'error'; error: SerializedError };

export type AskStreamEvent = StreamEventOf<'chat/ask'>;

const methods = Object.keys(contract) as ApiMethod[];

export const requestSchemas = Object.fromEntries(methods.map((name) => [name, contract[name].request])) as { [M in ApiMethod]: ApiContract[M]['request'] };

export const streamingMethods = methods.filter((name) => 'stream' in contract[name]) as StreamingMethod[];

export function isApiMethod(value: string): value is ApiMethod {
  return Object.hasOwn(contract, value);
}

export function isStreamingMethod(value: ApiMethod): value is StreamingMethod {
  return (streamingMethods as readonly ApiMethod[]).includes(value);
}

/** HTTP path of a contract method: `/api/chat/ask`. */
export function apiPath(method: ApiMethod): string {
  return `/api/${method}`;
}

/** Turns a zod failure into one line per offending field, naming the field. */
export function describeValidationIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`).join('; ');
}
