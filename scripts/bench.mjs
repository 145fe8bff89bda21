#!/usr/bin/env node
/**
 * npm run bench — bundles bench/bench.ts (and the matmul helper thread beside it) with esbuild into
 * bench/.cache/dist/, then runs it with plain node, passing on the arguments.
 *
 * Why not tsx: in a process that loaded the code through tsx, the matmul kernels run ~25 % slower (5.0 instead of
 * 6.6 GFLOP/s on 256×256×1024, explain 20 tokens ~100 instead of ~80 ms), the same figures as in a bundle after one
 * ArrayBuffer was detached (structuredClone with transfer): from then on V8's optimised code checks every
 * typed-array and DataView access for detachment. The shipped bundles (dist/worker.js, dist/cli.js) never detach
 * one; the bench measures what ships.
 */
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', '.cache', 'dist');
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, keepNames: true, logLevel: 'warning', absWorkingDir: root };
await Promise.all([
  esbuild.build({ ...common, entryPoints: ['bench/bench.ts'], outfile: join(out, 'bench.js'), external: ['onnxruntime-node'] }),
  esbuild.build({ ...common, entryPoints: ['src/model/kernels/parallel/matmulHelper.ts'], outfile: join(out, 'matmulHelper.js') }),
  esbuild.build({ ...common, entryPoints: ['src/model/train/gradHelper.ts'], outfile: join(out, 'trainGradHelper.js') }),
]);
const r = spawnSync(process.execPath, ['--enable-source-maps', join(out, 'bench.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
