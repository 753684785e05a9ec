import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder holding vaultgate's package.json. Files shipped beside the code (prisma/migrations, web assets) are
 * found from here, so the same code works from src/ (tsx, tests) and from the dist/ bundle (`npm start`).
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  // src/lib → src → root, or dist → root: a handful of steps; the bound only guards against a broken install.
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'prisma'))) return (root = dir);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('vaultgate: cannot find the project folder (package.json beside prisma/) above the running code');
}
