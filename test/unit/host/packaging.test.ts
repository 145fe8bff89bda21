/** The .vsix ships every bundle the build writes (a missing one fails only at run time, in the installed extension). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../helpers/golden';

test('.vscodeignore re-includes every bundle of scripts/build.mjs (tests aside) and the training data', () => {
  const build = fs.readFileSync(path.join(ROOT, 'scripts', 'build.mjs'), 'utf8');
  const outfiles = [...build.matchAll(/outfile: '(dist\/[^']+)'/g)].map((m) => m[1]).filter((f) => !f.startsWith('dist/test/'));
  assert.ok(outfiles.length >= 6, `found ${outfiles.length} bundles in build.mjs`);
  const kept = fs.readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8').split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).trim());
  // the patterns used there: exact paths, `dir/*.ext` and `dir/**`
  const matches = (p: string, file: string) => {
    if (p.endsWith('/**')) return file.startsWith(p.slice(0, -2));
    const star = /^(.*)\/\*(\.\w+)$/.exec(p);
    if (star) return path.dirname(file) === star[1] && file.endsWith(star[2]);
    return p === file;
  };
  const shipped = (file: string) => kept.some((p) => matches(p, file));
  for (const f of outfiles) assert.ok(shipped(f), `${f} is built but not packaged (.vscodeignore)`);
  assert.ok(shipped('media/train/tatoeba-en-es-short.tsv'), 'the training task data is packaged');
});
