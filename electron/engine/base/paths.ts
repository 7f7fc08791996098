import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The npllm package folder, found from this file whether it runs from source, dist/ or a bundle. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'npllm') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('npllm: cannot find the package folder (package.json named "npllm").');
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const migrationsFolder = join(packageRoot, 'drizzle');
export const rendererFolder = join(packageRoot, 'out', 'renderer');
export const packageVersion = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
