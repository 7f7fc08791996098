/**
 * One KV sequence per recent adapter mix (model/README.md "LoRA adapters"): every token a
 * sequence holds was evaluated under its mix, so a question returning to that mix reuses the
 * sequence's evaluated prefix (the system prompt), and no KV entry is ever read under another mix.
 */
import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';

/** What a mix is made of: adapter files and their scales. */
type ServedAdapter = { path: string; scale: number };

/** A KV sequence and the adapter mix every token in it was evaluated under. */
export interface Slot {
  sequence: LlamaContextSequence;
  mix: string | null;
  usedAt: number;
}

/** The context's sequences; the first holds the mix the context was created with. */
export function createSlots(context: LlamaContext, applied: readonly ServedAdapter[], count: number): Slot[] {
  return Array.from({ length: count }, (_, index) => ({
    sequence: context.getSequence(),
    mix: index === 0 ? mixKey(applied) : null,
    usedAt: index === 0 ? performance.now() : 0,
  }));
}

/** The slot of this mix, or the least recently used one, cleared and given to it. */
export async function takeSlot(slots: Slot[], applied: readonly ServedAdapter[]): Promise<LlamaContextSequence> {
  const mix = mixKey(applied);
  let slot = slots.find((candidate) => candidate.mix === mix);
  if (!slot) {
    slot = slots.reduce((oldest, candidate) => (candidate.usedAt < oldest.usedAt ? candidate : oldest));
    await slot.sequence.clearHistory();
    slot.mix = mix;
  }
  slot.usedAt = performance.now();
  return slot.sequence;
}

export function sameAdapters(a: readonly ServedAdapter[], b: readonly ServedAdapter[]): boolean {
  return a.length === b.length && a.every((adapter, index) => adapter.path === b[index]!.path && adapter.scale === b[index]!.scale);
}

function mixKey(adapters: readonly ServedAdapter[]): string {
  return adapters.map((adapter) => `${adapter.path}@${adapter.scale}`).join('|');
}
