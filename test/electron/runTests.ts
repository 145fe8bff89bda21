/**
 * Runs test/extension-host (bundled to dist/test/extension-host.js) inside a real VS Code with
 * @vscode/test-electron. Needs a VS Code build: by default it downloads VS Code 1.100.3 once into
 * .vscode-test/ (internet required). Offline, point VSCODE_EXECUTABLE at an installed VS Code.
 * On Linux without a display, run under `xvfb-run -a`.
 *
 *   npm run test:electron                       # build, then download (once) and run
 *   VSCODE_EXECUTABLE=/usr/bin/code npm run test:electron
 *   VSCODE_VERSION=stable npm run test:electron
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const extensionTestsPath = path.join(root, 'dist', 'test', 'extension-host.js');
  if (!fs.existsSync(extensionTestsPath)) throw new Error(`${extensionTestsPath} is missing: run "npm run build" first`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-vscode-'));
  try {
    const exitCode = await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath,
      ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : { version: process.env.VSCODE_VERSION ?? '1.100.3' }),
      launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', `--user-data-dir=${userDataDir}`],
    });
    process.exitCode = exitCode;
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
