/**
 * The command line's conversation: the terminal session a question is asked from. Questions asked
 * in one terminal within the follow-up window read as reactions to each other's answers; two
 * terminals (or a script beside an interactive shell in another session) never do.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Fields of /proc/<pid>/stat from field 3 on: the command name (field 2) may contain spaces and parentheses. */
function statFields(pid: number | 'self', read: (path: string) => string): string[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * `cli:<host>:<session id>` on Linux (field 6 of /proc/self/stat). Inside a container or sandbox
 * whose session leader lives outside its PID namespace the session reads 0: the process that
 * started npllm (the shell, a script) then stands for the terminal, named by its pid and start
 * time so a recycled pid is another conversation. Undefined elsewhere (follow-ups then need
 * --reply-to or --conversation).
 */
export function terminalConversation(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): string | undefined {
  try {
    const fields = statFields('self', read);
    const host = hostname().replace(/[^\w.-]/g, '_') || 'localhost';
    const session = Number(fields[3]);
    if (Number.isInteger(session) && session > 0) return `cli:${host}:${session}`;
    const parent = Number(fields[1]);
    if (!Number.isInteger(parent) || parent <= 0) return undefined;
    const started = statFields(parent, read)[19];
    return started && /^\d+$/.test(started) ? `cli:${host}:p${parent}-${started}` : undefined;
  } catch {
    return undefined;
  }
}
