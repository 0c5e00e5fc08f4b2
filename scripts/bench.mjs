#!/usr/bin/env node
// `npm run bench [filter]`: runs every benchmark under bench/ one after another (they measure, so never in parallel).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2] ?? '';
const files = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.ts') && f.includes(filter))
  .sort();
const failed = [];
for (const f of files) {
  console.log(`\n=== bench/${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', f)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed.push(f);
}
console.log(
  `\n${files.length - failed.length} of ${files.length} benchmarks finished${failed.length ? `; failed: ${failed.join(', ')}` : ''}.`,
);
process.exit(failed.length ? 1 : 0);
