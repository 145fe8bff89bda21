// Fails fast, with the fix, when the pieces the e2e tests drive are missing (they are installed by `npm run e2e:setup`).
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pieces = [
  ['code-server', process.env.CODE_SERVER_BIN ?? join(root, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server')],
  ['chromium', process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'],
];
const missing = pieces.filter(([, file]) => {
  try {
    accessSync(file, constants.X_OK);
    return false;
  } catch {
    return true;
  }
});
if (missing.length) {
  for (const [name, file] of missing) console.error(`e2e: ${name} not found at ${file}`);
  console.error('e2e: run `npm run e2e:setup` (scripts/e2e/setup.sh) to install code-server and chromium, then retry.');
  process.exit(1);
}
