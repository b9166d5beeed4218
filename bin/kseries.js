#!/usr/bin/env node
// Runs the compiled CLI in dist/ (tsc -p tsconfig.build.json; `make` and
// `npm pack` build it). In a checkout whose dist/ is missing or older than
// any harness/*.ts, it runs the sources through tsx (a devDependency)
// instead, so a stale build is never what gets tested.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'harness');
const dist = join(root, 'dist');

/** True when every harness/X.ts has a dist/X.js at least as new (an installed package ships no harness/). */
function distIsCurrent() {
  if (!existsSync(join(dist, 'cli.js'))) return false;
  if (!existsSync(src)) return true;
  for (const rel of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!rel.endsWith('.ts')) continue;
    const js = join(dist, rel.slice(0, -3) + '.js');
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(src, rel)).mtimeMs) return false;
  }
  return true;
}

if (distIsCurrent()) {
  const { kseries } = await import('../dist/cli.js');
  await kseries(process.argv.slice(2));
} else if (existsSync(src)) {
  const { register } = await import('tsx/esm/api').catch(() => {
    console.error('kseries: error: dist/ is missing or out of date and tsx is not installed; run make (or npm run build)');
    process.exit(3);
  });
  register();
  const { kseries } = await import('../harness/cli.ts');
  await kseries(process.argv.slice(2));
} else {
  console.error('kseries: error: this installation has no dist/cli.js; reinstall kseries (npm pack builds dist/)');
  process.exit(3);
}
