#!/usr/bin/env node
/**
 * Runs the unit suites: every test/unit/**\/*.test.ts (Node 20's test runner takes no globs).
 * Arguments narrow the run to files whose path contains one of them: `npm run test:unit -- tokenizer host/`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);
const filters = process.argv.slice(2);
const files = walk(join(root, 'test', 'unit'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no unit test file matches ${filters.join(' ')}`);
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
