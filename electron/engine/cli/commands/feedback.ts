/** `npllm feedback ID EVENT`: what happened to an answer (copied, inserted, edited, …), never a rating. */
import type { Command } from 'commander';
import { feedbackEventTypes, type FeedbackRequest } from '../../../../shared/contract.js';
import { parseNumber, type CliOptions } from '../options.js';
import { printJson } from '../output.js';
import { withSession } from '../session.js';

type FeedbackOptions = CliOptions & { value?: number; text?: string; eventId?: string };

export function register(program: Command): void {
  program
    .command('feedback')
    .description(`record what happened to an answer: ${feedbackEventTypes.filter((type) => type !== 'follow-up').join(', ')}`)
    .argument('<interactionId>', 'the interaction (printed by --query)')
    .argument('<event>', 'the event type')
    .option('-v, --value <number>', 'dwell: seconds; edited: edit distance in characters', parseNumber)
    .option('--text <text>', 'edited: your final version; corrected: your correction')
    .option('--event-id <id>', 'makes a retry harmless: the same id is stored once')
    .option('--json', 'print one JSON object')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (interactionId: string, event: string, options: FeedbackOptions) => {
      process.exitCode = await runFeedback(interactionId, event, { ...program.opts<CliOptions>(), ...options });
    });
}

function runFeedback(interactionId: string, event: string, options: FeedbackOptions): Promise<number> {
  return withSession(options, {}, async (session) => {
    const ack = await session.call('feedback/record', {
      interactionId,
      // Checked by the contract, which names the valid types.
      type: event as FeedbackRequest['type'],
      ...(options.value !== undefined ? { value: options.value } : {}),
      ...(options.text !== undefined ? { text: options.text } : {}),
      ...(options.eventId !== undefined ? { eventId: options.eventId } : {}),
    });
    if (options.json) return printJson(ack);
    const reward = ack.reward.reward === null ? 'none yet' : ack.reward.reward.toFixed(3);
    process.stderr.write(
      `[npllm] ${ack.duplicate ? 'already recorded' : 'recorded'} ${event} for ${interactionId} · reward ${reward} from ${ack.reward.events} event(s)\n`,
    );
  });
}
