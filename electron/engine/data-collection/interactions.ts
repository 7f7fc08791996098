/**
 * Every question and answer, as the other capabilities record and read them: the critical path
 * records a question before it runs and its answer before acknowledging it; the API lists them.
 * (Their SQL stays in queries.ts, private to this folder.)
 */
export {
  completeInteraction,
  deleteConversation,
  endInteractionWithError,
  findConversation,
  findInteraction,
  insertInteraction,
  listConversations,
  listInteractions,
  markInterrupted,
  pendingInteractions,
  questionsPerProject,
  renameConversation,
  savePartialAnswer,
  type NewInteraction,
} from './queries.js';
