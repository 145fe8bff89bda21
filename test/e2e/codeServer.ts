/**
 * A hermetic code-server (VS Code 1.100 served to a browser) for the end-to-end tests: its own free port,
 * temporary user-data / extensions folders and settings, started in its own process group so that stopping it
 * also ends the extension host, file watcher and pty host it forks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { serverArgs } from '../../scripts/e2e/serverArgs.cjs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CODE_SERVER_BIN = process.env.CODE_SERVER_BIN ?? path.join(REPO_ROOT, '.e2e', 'code-server', 'node_modules', '.bin', 'code-server');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');

/** Throws (never skips) when a piece the e2e tests need is missing, with the command that installs it. */
export function assertPrerequisites(): void {
  const missing: string[] = [];
  if (!isExecutable(CODE_SERVER_BIN)) missing.push(`code-server (${CODE_SERVER_BIN})`);
  if (!isExecutable(CHROMIUM_BIN)) missing.push(`chromium (${CHROMIUM_BIN})`);
  if (missing.length) {
    throw new Error(`e2e prerequisites missing: ${missing.join(', ')}. Run \`npm run e2e:setup\` (scripts/e2e/setup.sh) first.`);
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Settings that keep the workbench quiet and deterministic: no welcome page, no animations, fixed hover delay. */
export const HERMETIC_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.reduceMotion': 'on',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'editor.hover.delay': 300,
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'files.hotExit': 'off',
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CodeServerOptions {
  /** Folder for config, user data, extensions and the log; created fresh unless `keep` (persistent profile). */
  root: string;
  keep?: boolean;
  /** Fixed port (default: a free one). */
  port?: number;
  host?: string;
  /** Folder code-server opens by default. */
  workspace?: string;
  /** .vsix files installed (with --force) before the server starts. */
  vsix?: string[];
  settings?: Record<string, unknown>;
  /** Where code-server's stdout/stderr go: a log file under root (default) or this process' own streams. */
  inheritOutput?: boolean;
  startTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  pid: number;
  root: string;
  logFile: string;
  /** code-server's own logs (extension host, remote agent, ...). */
  logsDir: string;
  timings: Record<string, number>;
  /** vscode-remote URI of a local path (for workbench payload parameters). */
  remoteUri(p: string): string;
  /** Stops the whole process group; safe to call twice. */
  stop(): Promise<void>;
}

function writeProfile(opts: CodeServerOptions) {
  const configFile = path.join(opts.root, 'config.yaml');
  const extensionsDir = path.join(opts.root, 'extensions');
  const userDataDir = path.join(opts.root, 'user-data');
  if (!opts.keep) fs.rmSync(opts.root, { recursive: true, force: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  // Without --config code-server creates ~/.config/code-server/config.yaml with a random password.
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  let current: Record<string, unknown> = {};
  if (opts.keep && fs.existsSync(settingsFile)) {
    try {
      current = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
    } catch {
      current = {};
    }
  }
  fs.writeFileSync(settingsFile, JSON.stringify({ ...current, ...HERMETIC_SETTINGS, ...opts.settings }, null, 2));
  return { configFile, extensionsDir, userDataDir, common: ['--config', configFile, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir] };
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PASSWORD; // would turn password auth back on
  delete env.HASHED_PASSWORD;
  delete env.VSCODE_PROXY_URI;
  delete env.NODE_OPTIONS; // the test runner's --import tsx etc. must not leak into VS Code's Node processes
  return env;
}

/** Installs a .vsix into the profile's extensions folder (code-server --install-extension). */
export function installVsix(common: string[], vsix: string): number {
  const t = Date.now();
  const r = spawnSync(CODE_SERVER_BIN, [...common, '--install-extension', vsix, '--force'], { encoding: 'utf8', env: childEnv(), timeout: 120_000 });
  if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return Date.now() - t;
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  assertPrerequisites();
  const profile = writeProfile(opts);
  const timings: Record<string, number> = {};
  for (const vsix of opts.vsix ?? []) timings[`install ${path.basename(vsix)}`] = installVsix(profile.common, vsix);

  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const args = serverArgs(profile.common, host, port, opts.workspace);
  const logFile = path.join(opts.root, 'code-server.log');
  const t0 = Date.now();
  // detached: its own process group, so stop() reaches every process it forks
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, {
    cwd: opts.root,
    env: childEnv(),
    detached: true,
    stdio: opts.inheritOutput ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
  });
  if (!opts.inheritOutput) {
    const log = fs.createWriteStream(logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = `code ${code} signal ${signal}`;
      resolve();
    });
    child.on('error', (err) => {
      exited = String(err);
      resolve();
    });
  });
  const pid = child.pid ?? -1;
  // Last resort if this process ends without calling stop() (a crash, Ctrl+C): the group must not outlive the tests.
  const killOnExit = () => killGroup(pid, 'SIGKILL');
  process.on('exit', killOnExit);
  exitOnSignals();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    killGroup(pid, 'SIGTERM');
    await Promise.race([exitPromise, sleep(5000)]);
    await sleep(200);
    killGroup(pid, 'SIGKILL'); // forks that ignore SIGTERM or outlive the main process
    process.off('exit', killOnExit);
  };

  const url = `http://${host}:${port}`;
  const deadline = t0 + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited during start-up (${exited}); log: ${logFile}\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${url}/healthz within ${opts.startTimeoutMs ?? 60_000} ms; log: ${logFile}\n${tail(logFile)}`);
    }
    if ((await httpStatus(`${url}/healthz`)) === 200) break;
    await sleep(100);
  }
  timings.healthz = Date.now() - t0;

  return {
    url,
    port,
    pid,
    root: opts.root,
    logFile,
    logsDir: path.join(profile.userDataDir, 'logs'),
    timings,
    remoteUri: (p: string) => `vscode-remote://${host}:${port}${path.resolve(p).split(path.sep).map(encodeURIComponent).join('/')}`,
    stop,
  };
}

let signalsHooked = false;
/** Ctrl+C / SIGTERM would end Node without 'exit' listeners; exiting explicitly runs them (ours and Playwright's). */
function exitOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  for (const [sig, code] of Object.entries(codes)) process.once(sig as NodeJS.Signals, () => process.exit(code));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A fresh temporary folder for one test run. */
export function tempRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Deletes a run's temporary profile (the installed extension alone is ~30 MB); E2E_KEEP_TMP=1 keeps it for debugging. */
export function removeRoot(cs: CodeServer): void {
  if (process.env.E2E_KEEP_TMP === '1') return;
  fs.rmSync(cs.root, { recursive: true, force: true });
}

/** Copies code-server's own logs (extension host, remote agent, ...) next to the screenshots, for CI debugging. */
export function saveLogs(cs: CodeServer, name: string): void {
  try {
    const dest = path.join(ARTIFACTS_DIR, 'logs', name);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    if (fs.existsSync(cs.logsDir)) fs.cpSync(cs.logsDir, path.join(dest, 'vscode'), { recursive: true });
    if (fs.existsSync(cs.logFile)) fs.copyFileSync(cs.logFile, path.join(dest, 'code-server.log'));
  } catch {
    // logs are a debugging aid only
  }
}
