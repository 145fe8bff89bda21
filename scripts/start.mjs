#!/usr/bin/env node
// `npm start`: try Attention Lens in a browser on a machine without desktop VS Code.
// Installs code-server + chromium when missing (scripts/e2e/setup.sh), builds and packages the extension, installs
// the .vsix into a persistent profile (.e2e/start/), and serves VS Code with samples/sample.txt open on
// http://127.0.0.1:PORT (default 8080; PORT=… or --port … to change). Ctrl+C stops it.
// Webviews need a secure context: open it as 127.0.0.1 or localhost (an SSH tunnel keeps that true remotely).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverArgs } from './e2e/serverArgs.cjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CODE_SERVER = process.env.CODE_SERVER_BIN ?? join(ROOT, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');
const PROFILE = join(ROOT, '.e2e', 'start');
const SAMPLES = join(ROOT, 'samples');
const VSIX = join(ROOT, 'attention-lens.vsix');
const HOST = '127.0.0.1';

function parsePort() {
  const i = process.argv.indexOf('--port');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.PORT ?? '8080';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`invalid port "${raw}"`);
  return port;
}

function fail(message) {
  console.error(`[start] ${message}`);
  process.exit(1);
}

function run(cmd, args, what) {
  console.log(`[start] ${what}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`${what} failed (${r.status ?? r.signal})`);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const port = parsePort();
if (!executable(CODE_SERVER)) run('bash', [join(ROOT, 'scripts', 'e2e', 'setup.sh')], 'installing code-server (scripts/e2e/setup.sh)');
run('npm', ['run', 'build'], 'npm run build');
run('npm', ['run', 'package'], 'npm run package');
if (!existsSync(VSIX)) fail(`npm run package did not produce ${VSIX}`);

// persistent profile: settings and state survive restarts; the extension is reinstalled each time
const configFile = join(PROFILE, 'config.yaml');
const userData = join(PROFILE, 'user-data');
const extensions = join(PROFILE, 'extensions');
mkdirSync(join(userData, 'User'), { recursive: true });
mkdirSync(extensions, { recursive: true });
writeFileSync(configFile, 'auth: none\ncert: false\n');
const settingsFile = join(userData, 'User', 'settings.json');
let settings = {};
try {
  settings = JSON.parse(readFileSync(settingsFile, 'utf8'));
} catch {
  settings = {};
}
const defaults = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
};
writeFileSync(settingsFile, JSON.stringify({ ...defaults, ...settings }, null, 2));

const env = { ...process.env };
delete env.PASSWORD;
delete env.HASHED_PASSWORD;
const common = ['--config', configFile, '--user-data-dir', userData, '--extensions-dir', extensions];
console.log('[start] installing attention-lens.vsix into .e2e/start/');
const inst = spawnSync(CODE_SERVER, [...common, '--install-extension', VSIX, '--force'], { cwd: ROOT, env, encoding: 'utf8' });
if (inst.status !== 0) fail(`installing the extension failed:\n${inst.stdout}${inst.stderr}`);

const args = serverArgs(common, HOST, port, SAMPLES);
// own process group, so Ctrl+C / SIGTERM also ends the extension host and the other processes it forks
const child = spawn(CODE_SERVER, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], detached: true });

const payload = [['openFile', `vscode-remote://${HOST}:${port}${join(SAMPLES, 'sample.txt')}`]];
const url = `http://${HOST}:${port}/?folder=${encodeURIComponent(SAMPLES)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n[start] ${signal}: stopping code-server`);
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    process.exit(0);
  }, 3000).unref();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
child.on('exit', (code, signal) => {
  if (!stopping) console.error(`[start] code-server exited (${code ?? signal})`);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // group already gone
  }
  process.exit(stopping ? 0 : 1);
});

// announce the URL once the server answers
const deadline = Date.now() + 60_000;
(async function announce() {
  while (!stopping && Date.now() < deadline) {
    try {
      const res = await fetch(`http://${HOST}:${port}/healthz`);
      if (res.ok) {
        console.log(`\n[start] Attention Lens is running in VS Code (code-server). Open:\n\n  ${url}\n`);
        console.log('[start] Select text in sample.txt, then run "Explain attention for selection" (F1). Ctrl+C to stop.');
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!stopping) console.error(`[start] code-server did not answer on ${HOST}:${port} within 60 s`);
})();
