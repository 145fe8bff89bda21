#!/usr/bin/env node
/**
 * Runs the unit suites: every test/unit/**\/*.test.ts (Node 20's test runner takes no globs).
 * Arguments narrow the run to files whose path contains one of them: `npm run test:unit -- tokenizer host/`.
 * The suites that spawn the CLI (test/helpers/cli.ts) get one bundle of it, built here from the current sources
 * (scripts/test-cli-bundle.mjs) and passed on in ATTENTION_LENS_TEST_CLI, instead of each building their own.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { buildCliBundle } from './test-cli-bundle.mjs';

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
let cli;
if (files.some((f) => readFileSync(join(root, f), 'utf8').includes('helpers/cli'))) {
  // On a build error the suites that need the CLI each try again and fail with the message; the others still run.
  cli = await buildCliBundle().catch((err) => console.error(`building the CLI bundle failed: ${err.message}`));
}
const env = cli ? { ...process.env, ATTENTION_LENS_TEST_CLI: cli } : process.env;
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { cwd: root, stdio: 'inherit', env });
if (cli) rmSync(dirname(cli), { recursive: true, force: true });
process.exit(run.status ?? 1);
