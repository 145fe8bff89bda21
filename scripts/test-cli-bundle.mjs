#!/usr/bin/env node
/**
 * The CLI bundle the unit tests spawn: dist/cli.js and the two helper-thread bundles it starts beside itself
 * (matmulHelper.js, trainGradHelper.js), built from the current sources with scripts/build.mjs's own options into a
 * fresh folder. Spawning a bundle starts in a fraction of the time tsx needs to compile the CLI's sources, and a
 * fresh build can never be stale (dist/ may be, or may be rebuilt by someone else mid-run).
 *
 * The folder is under node_modules/.cache/ so the bundle finds media/model above itself, as dist/cli.js does.
 * scripts/test-unit.mjs builds it once per run and passes it on in ATTENTION_LENS_TEST_CLI; a test file run on its
 * own builds it through `node scripts/test-cli-bundle.mjs` (test/helpers/cli.ts).
 *
 * Usage: node scripts/test-cli-bundle.mjs   → prints the path of the built cli.js (the caller removes its folder)
 */
import * as esbuild from 'esbuild';
import { mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { targets } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NAMES = ['cli', 'matmul-helper', 'train-grad-helper'];

/** Builds the CLI bundles into a new folder under node_modules/.cache/; returns the path of cli.js. */
export async function buildCliBundle() {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'attention-lens-unit-cli-'));
  await Promise.all(NAMES.map((name) => {
    const t = targets.find((x) => x.name === name);
    if (!t) throw new Error(`scripts/build.mjs has no '${name}' target`);
    return esbuild.build({ ...t.options, entryPoints: [join(root, t.entry)], outfile: join(dir, basename(t.options.outfile)), absWorkingDir: root, logLevel: 'error' });
  }));
  return join(dir, 'cli.js');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  buildCliBundle().then((cli) => console.log(cli), (err) => {
    console.error(err);
    process.exit(1);
  });
}
