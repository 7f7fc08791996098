/**
 * The terminal conversation the CLI files questions under, read from the real /proc: the same for
 * two processes of one shell, different for two shells, and still defined inside a PID namespace
 * whose session leader is outside it (containers, CI sandboxes), where the session reads 0.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { terminalConversation } from './conversation.js';

const cliUrl = new URL('./conversation.ts', import.meta.url).href;
// One node process printing its conversation id; run through a shell so the shell is its parent.
const printId = `node --import tsx/esm -e "import('${cliUrl}').then((m) => console.log(m.terminalConversation()))"`;
const canUnshare = spawnSync('unshare', ['-pf', '--mount-proc', 'true']).status === 0;

describe('terminalConversation', () => {
  it('names this process session on this host (or, in session 0, its parent)', () => {
    const sid = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[3]);
    const host = hostname().replace(/[^\w.-]/g, '_');
    if (sid > 0) expect(terminalConversation()).toBe(`cli:${host}:${sid}`);
    else expect(terminalConversation()).toMatch(new RegExp(`^cli:${host}:p${process.ppid}-\\d+$`));
  });

  it('is the same for two questions asked from one shell, different from another shell', () => {
    const one = execFileSync('sh', ['-c', `${printId}; ${printId}`], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const other = execFileSync('setsid', ['sh', '-c', printId], { encoding: 'utf8' }).trim();
    expect(one[0]).toMatch(/^cli:/);
    expect(one[1]).toBe(one[0]);
    expect(other).toMatch(/^cli:/);
    expect(other).not.toBe(one[0]);
  });

  it.skipIf(!canUnshare)('inside a PID namespace (session 0) the shell stands for the terminal', () => {
    const inside = (script: string) => execFileSync('unshare', ['-pf', '--mount-proc', 'sh', '-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(inside('cut -d" " -f6 /proc/self/stat')).toEqual(['0']);
    const [first, second] = inside(`${printId}; ${printId}`);
    expect(first).toMatch(/^cli:[\w.-]+:p\d+-\d+$/);
    expect(second).toBe(first);
  });

  it('is undefined when /proc cannot be read', () => {
    expect(
      terminalConversation(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });
});
