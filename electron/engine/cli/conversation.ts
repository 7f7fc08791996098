/**
 * The command line's conversation: the terminal session a question is asked from. Questions asked
 * in one terminal within the follow-up window read as reactions to each other's answers; two
 * terminals (or a script beside an interactive shell in another session) never do.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** `cli:<host>:<session id>` on Linux (field 6 of /proc/self/stat); undefined elsewhere (follow-ups then need --reply-to or --conversation). */
export function terminalConversation(): string | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const session = Number(fields[3]);
    if (!Number.isInteger(session) || session <= 0) return undefined;
    const host = hostname().replace(/[^\w.-]/g, '_') || 'localhost';
    return `cli:${host}:${session}`;
  } catch {
    return undefined;
  }
}
