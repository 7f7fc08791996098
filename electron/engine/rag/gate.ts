/**
 * The on-demand gate: retrieve only when the conversation does not already hold what the question
 * needs. Every peer retrieves on every query; npllm pays for retrieval (and for the longer
 * prompt) only when a rule says it helps, and records which rule. The modulator will learn this
 * decision later; this rule-based gate is the first implementation of the interface.
 */
import type { ChatMessage } from '../../../shared/contract.js';

export interface GateInput {
  question: string;
  history: readonly ChatMessage[];
}

/** What the gate may ask of the index, so it stays testable and cheap. */
export interface GateLookups {
  /** Names that are symbols of the project. */
  findSymbols(names: readonly string[]): Promise<string[]>;
  /** Paths or file names that exist in the project. */
  findPaths(paths: readonly string[]): Promise<string[]>;
  /** Cosine distance from the question to the nearest chunk (embeds the question). */
  nearestDistance(): Promise<number | null>;
}

export interface GateDecision {
  retrieve: boolean;
  reasons: string[];
}

export interface RetrievalGate {
  decide(input: GateInput, lookups: GateLookups): Promise<GateDecision>;
}

export interface RuleGateOptions {
  /** Retrieve when the question is about the project and the nearest chunk is at most this far. */
  maxDistance: number;
  /** Retrieve whatever the wording when the nearest chunk is at most this far. */
  strictDistance: number;
}

export function defaults(): RuleGateOptions {
  return { maxDistance: 0.62, strictDistance: 0.42 };
}

/** Questions that point at the user's own code ("where is…", "onde fica…", "in our project"). */
const projectWording =
  /\b(where|which file|which function|in (this|our|my|the) (project|repo|repository|codebase|code)|our code|this code|my code|how does|who calls|onde|qual arquivo|qual função|neste projeto|no projeto|nosso código|meu código|este código|como funciona)\b/i;

export function isProjectWording(question: string): boolean {
  return projectWording.test(question);
}

export class RuleBasedGate implements RetrievalGate {
  private readonly options: RuleGateOptions;

  constructor(options: Partial<RuleGateOptions> = {}) {
    this.options = { ...defaults(), ...options };
  }

  async decide(input: GateInput, lookups: GateLookups): Promise<GateDecision> {
    const { identifiers, paths } = mentions(input.question);
    const [symbols, files] = await Promise.all([lookups.findSymbols(identifiers), lookups.findPaths(paths)]);
    const named = [...new Set([...symbols, ...files])];
    if (named.length > 0) {
      const context = input.history.map((message) => message.content).join('\n');
      const missing = named.filter((name) => !context.includes(lastPart(name)));
      if (missing.length > 0) return { retrieve: true, reasons: [`names ${list(missing)} from the project, not in the conversation yet`] };
      return { retrieve: false, reasons: [`${list(named)} already in the conversation`] };
    }
    const distance = await lookups.nearestDistance();
    if (distance === null) return { retrieve: false, reasons: ['the project index is empty'] };
    const shown = distance.toFixed(2);
    if (distance <= this.options.strictDistance)
      return { retrieve: true, reasons: [`nearest project code is very close (distance ${shown} ≤ ${this.options.strictDistance})`] };
    const aboutProject = projectWording.test(input.question);
    if (aboutProject && distance <= this.options.maxDistance) {
      return { retrieve: true, reasons: [`asks about the project's code and the nearest chunk is close (distance ${shown} ≤ ${this.options.maxDistance})`] };
    }
    return {
      retrieve: false,
      reasons: [
        'names no symbol or file of the project',
        aboutProject
          ? `nearest project code is too far (distance ${shown} > ${this.options.maxDistance})`
          : `general question (nearest project code at distance ${shown})`,
      ],
    };
  }
}

/**
 * Code-like words in a question: `backticked`, snake_case, camelCase, dotted.names, call()s, and
 * path-like tokens with a slash or a file extension.
 */
export function mentions(question: string): { identifiers: string[]; paths: string[] } {
  const identifiers = new Set<string>();
  const paths = new Set<string>();
  const tokens = [...question.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.trim());
  tokens.push(...(question.match(/[\w./-]+(\(\))?/g) ?? []));
  for (const raw of tokens) {
    const token = raw.replace(/\(\)$/, '').replace(/[.,;:!?]+$/, '');
    if (!token) continue;
    if (/\/|\.[a-z0-9]{1,5}$/i.test(token) && /^[\w./-]+$/.test(token) && !/^\d/.test(token)) paths.add(token.replace(/^\.\//, ''));
    const codeLike = raw !== token || /_|[a-z][A-Z]|\w\.\w/.test(token) || question.includes(`\`${token}\``);
    if (codeLike && /^[A-Za-z_][\w.]*$/.test(token)) {
      identifiers.add(token);
      if (token.includes('.')) identifiers.add(token.split('.').at(-1)!);
    }
  }
  return { identifiers: [...identifiers], paths: [...paths] };
}

function lastPart(name: string): string {
  return name.split(/[./]/).at(-1)!;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 4).map((name) => `"${name}"`);
  return names.length > 4 ? `${shown.join(', ')} and ${names.length - 4} more` : shown.join(', ');
}
