/**
 * The CLI as the tests spawn it: `node <cli.js>`, a bundle of the current sources built with scripts/build.mjs's
 * options (scripts/test-cli-bundle.mjs). scripts/test-unit.mjs builds it once per run and passes its path in
 * ATTENTION_LENS_TEST_CLI; a test file run on its own builds its own copy here and removes it on exit.
 * Never dist/cli.js, which may be older than the sources.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './golden';

function buildOwnBundle(): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'test-cli-bundle.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the CLI bundle for the tests failed:\n${r.stderr}`);
  const cli = r.stdout.trim();
  process.on('exit', () => fs.rmSync(path.dirname(cli), { recursive: true, force: true }));
  return cli;
}

const given = process.env.ATTENTION_LENS_TEST_CLI;

/** Path of the bundled CLI entry: spawn it as `process.execPath, [CLI, ...args]`. */
export const CLI: string = given && fs.existsSync(given) ? given : buildOwnBundle();
