/** CPython's standard library on this machine: real code, always at hand, for benchmark corpora and test projects. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The oldest /usr/lib/python3.N; `purpose` says in the error what needed it. */
export function pythonStdlib(purpose: string): string {
  const python = readdirSync('/usr/lib')
    .filter((name) => /^python3\.\d+$/.test(name))
    .sort()[0];
  if (!python) throw new Error(`No /usr/lib/python3.* for ${purpose}: install python3.`);
  return join('/usr/lib', python);
}
