/**
 * Implicit feedback to the engine (`feedback/record`): what the reader did with an answer, never a
 * rating they are asked for. Sending is fire-and-forget for the chat: a failure costs one quiet
 * console warning, and each event carries an id chosen here so that its one retry is harmless.
 */
import type { FeedbackAck, FeedbackRequest } from '../../shared/contract.js';
import { toNpllmError } from '../../shared/errors.js';
import { isNetworkError, type Transport } from './transport.js';

export type FeedbackEvent = Omit<FeedbackRequest, 'eventId'> & { eventId?: string };

export interface SendOptions {
  /** The page is unloading: the request must outlive it, and there is no time to wait for a retry. */
  keepalive?: boolean;
}

export interface FeedbackSender {
  /** Resolves with the engine's acknowledgement, or null when the event could not be recorded; never rejects. */
  send(event: FeedbackEvent, options?: SendOptions): Promise<FeedbackAck | null>;
}

export interface FeedbackSenderOptions {
  warn?: (message: string) => void;
  /** Pause before the one retry after a network error. */
  retryDelayMs?: number;
}

export function createFeedbackSender(transport: Transport, options: FeedbackSenderOptions = {}): FeedbackSender {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const retryDelayMs = options.retryDelayMs ?? 1000;
  return {
    async send(event, sendOptions = {}) {
      const request: FeedbackRequest = { ...event, eventId: event.eventId ?? newEventId() };
      const invokeOptions = { askForKey: false, ...(sendOptions.keepalive ? { keepalive: true } : {}) };
      const attempt = () => transport.invoke('feedback/record', request, invokeOptions);
      try {
        try {
          return await attempt();
        } catch (error) {
          if (!isNetworkError(error)) throw error;
          if (!sendOptions.keepalive) await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          return await attempt();
        }
      } catch (error) {
        warn(`npllm: the ${request.type} feedback for interaction ${request.interactionId} was not recorded (${toNpllmError(error).message})`);
        return null;
      }
    },
  };
}

/**
 * A random UUID. `crypto.randomUUID` exists only in secure contexts, and a server reached over
 * plain HTTP by address is not one, so the same is built from `getRandomValues` there.
 */
export function newEventId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * One dwell event per interaction: a retry, or a later report of a longer reading time, is the
 * same event, not a new one (the engine keeps the largest value sent under the id).
 */
export function dwellEventId(interactionId: string): string {
  return `dwell-${interactionId}`;
}
