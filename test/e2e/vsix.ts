/** Makes sure the packaged extension (attention-lens.vsix) exists and is newer than what it packages. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';

export const VSIX = path.join(REPO_ROOT, 'attention-lens.vsix');
const DIST = path.join(REPO_ROOT, 'dist');

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, e)));
  return max;
}

function npmRun(script: string): void {
  const t = Date.now();
  process.stderr.write(`[e2e] npm run ${script}\n`);
  const r = spawnSync('npm', ['run', script], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`npm run ${script} failed (${r.status ?? r.signal}); the e2e tests need it`);
  process.stderr.write(`[e2e] npm run ${script}: ${Date.now() - t} ms\n`);
}

/** Builds (only when dist/ is missing) and packages (when the .vsix is missing or older than dist/ or package.json). */
export function ensureVsix(): string {
  if (!fs.existsSync(path.join(DIST, 'extension.js'))) npmRun('build');
  const inputs = Math.max(newestMtime(DIST), newestMtime(path.join(REPO_ROOT, 'package.json')));
  const vsixTime = newestMtime(VSIX);
  if (vsixTime === 0 || vsixTime < inputs) npmRun('package');
  if (!fs.existsSync(VSIX)) throw new Error(`npm run package did not create ${VSIX}`);
  return VSIX;
}
