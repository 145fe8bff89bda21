/**
 * The bench/ folder, found from wherever this code runs: bench/*.ts under tsx, or the bundle in bench/.cache/dist/
 * that `npm run bench` builds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function findBenchDir(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'peak_fma.c'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`bench/ (with peak_fma.c) was not found above ${start}`);
  }
}

export const BENCH_DIR = findBenchDir(__dirname);
export const PROJECT_DIR = path.dirname(BENCH_DIR);
