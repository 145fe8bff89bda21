#!/usr/bin/env node
/**
 * npm run bench:setup — exports the bundled checkpoint to ONNX (bench/.cache/onnx/) for the benchmark's
 * onnxruntime peer. Needs a Python with torch and onnx: $PYTHON picks one, else /usr/bin/python3, then python3 on
 * PATH; when none has both, it installs the Debian packages python3-torch and python3-onnx with apt-get (as root,
 * or through sudo -n), as e2e:setup does, then looks again. Each step that fails says what failed and what to run.
 * Skips the export when the files are newer than the script and the checkpoint (--force re-exports).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const script = join(root, 'scripts', 'onnx', 'export_marian.py');
const model = join(root, 'media', 'model');
const out = join(root, 'bench', '.cache', 'onnx');
const graphs = ['encoder.onnx', 'decoder_step.onnx', 'decoder_full.onnx', 'meta.json'].map((f) => join(out, f));

export function onnxUpToDate() {
  if (!graphs.every((f) => existsSync(f))) return false;
  const oldest = Math.min(...graphs.map((f) => statSync(f).mtimeMs));
  return [script, join(model, 'model.safetensors'), join(model, 'config.json')].every((f) => statSync(f).mtimeMs <= oldest);
}

/** The first Python that imports torch and onnx, or undefined with the reasons. */
export function findPython() {
  const tried = [];
  for (const py of [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    const r = spawnSync(py, ['-c', 'import torch, onnx; print(torch.__version__, onnx.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, versions: r.stdout.trim() };
    tried.push(`${py}: ${(r.error?.message ?? r.stderr.trim().split('\n').pop()) || `exit ${r.status}`}`);
  }
  return { python: undefined, tried };
}

/** onnxruntime-node lives outside the project's dependencies (its install script downloads, which CI cannot). */
export const ORT_DIR = join(root, 'bench', '.cache', 'ort');
const ORT_VERSION = '1.30.0';

export function installOrt({ quiet = false } = {}) {
  if (existsSync(join(ORT_DIR, 'node_modules', 'onnxruntime-node', 'package.json'))) return { ok: true, skipped: true };
  // --ignore-scripts: the package ships its CPU binaries; the script would only fetch optional GPU ones
  const r = spawnSync('npm', ['install', '--prefix', ORT_DIR, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `onnxruntime-node@${ORT_VERSION}`],
    { encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit' });
  return r.status === 0 ? { ok: true, skipped: false } : { ok: false, why: `npm install onnxruntime-node failed (exit ${r.status})` };
}

/** Debian packages that give /usr/bin/python3 torch and onnx. */
const APT_PACKAGES = ['python3-torch', 'python3-onnx'];

/** apt-get installs APT_PACKAGES (root, or sudo without a password); returns why not when it could not. */
export function aptInstallPython({ quiet = false } = {}) {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return { ok: false, why: 'no apt-get here (not Debian/Ubuntu): install torch and onnx for a Python and point $PYTHON at it' };
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root && spawnSync('sudo', ['-n', 'true']).status !== 0) return { ok: false, why: `not root and no password-less sudo: run  sudo apt-get install -y ${APT_PACKAGES.join(' ')}` };
  const run = (args) => {
    const cmd = root ? args : ['sudo', '-n', ...args];
    if (!quiet) console.log(`bench:setup: ${cmd.join(' ')}`);
    return spawnSync(cmd[0], cmd.slice(1), { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  const update = run(['apt-get', 'update', '-qq']);
  if (update.status !== 0) return { ok: false, why: `apt-get update failed (exit ${update.status}): is the Debian mirror reachable?` };
  const install = run(['apt-get', 'install', '-y', '-qq', ...APT_PACKAGES]);
  if (install.status !== 0) return { ok: false, why: `apt-get install ${APT_PACKAGES.join(' ')} failed (exit ${install.status})` };
  return { ok: true };
}

export function exportOnnx({ force = false, quiet = false, install = true } = {}) {
  if (!force && onnxUpToDate()) return { ok: true, skipped: true, dir: out };
  let py = findPython();
  if (!py.python && install) {
    const apt = aptInstallPython({ quiet });
    if (!apt.ok) return { ok: false, why: `no Python with torch + onnx (${py.tried.join('; ')}), and installing them failed: ${apt.why}` };
    py = findPython();
  }
  if (!py.python) return { ok: false, why: `no Python with torch + onnx (${py.tried.join('; ')})${install ? `, even after apt-get install ${APT_PACKAGES.join(' ')}` : ''}` };
  const r = spawnSync(py.python, [script, model, out], { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (r.status !== 0) return { ok: false, why: `export failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  if (!quiet) process.stdout.write(r.stdout);
  return { ok: true, skipped: false, dir: out, python: py.python, versions: py.versions };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ort = installOrt();
  if (!ort.ok) {
    console.error(`bench:setup: ${ort.why}`);
    process.exit(1);
  }
  const r = exportOnnx({ force: process.argv.includes('--force'), install: !process.argv.includes('--no-install') });
  if (!r.ok) {
    console.error(`bench:setup: ${r.why}`);
    process.exit(1);
  }
  console.log(r.skipped ? `bench:setup: ${r.dir} is up to date` : `bench:setup: wrote ${r.dir} (${r.python}, torch/onnx ${r.versions})`);
}
