#!/usr/bin/env node
/**
 * Bundles everything with esbuild:
 *   src/extension.ts              -> dist/extension.js            (node, cjs, vscode external)
 *   src/worker/inferenceWorker.ts -> dist/worker.js               (node, cjs)
 *   src/model/kernels/parallel/matmulHelper.ts -> dist/matmulHelper.js   (node, cjs; the worker's and CLI's matmul threads)
 *   src/cli/main.ts               -> dist/cli.js                  (node, cjs, #! banner)
 *   webview/panel/main.ts         -> dist/webview/panel.js        (browser, iife)
 *   webview/sidebar/main.ts       -> dist/webview/sidebar.js      (browser, iife)
 *   src/worker/trainWorker.ts     -> dist/trainWorker.js          (node, cjs; "Train a tiny transformer")
 *   src/model/train/gradHelper.ts -> dist/trainGradHelper.js      (node, cjs; the second thread of data-parallel training)
 *   webview/train/main.ts         -> dist/webview/train.js        (browser, iife)
 *   webview/styles.css            -> dist/webview/styles.css
 *   test/extension-host/index.ts  -> dist/test/extension-host.js  (node, cjs, vscode external)
 * Missing entries are skipped with a warning, so the build works while parts are still being written.
 *
 * Flags: --production (minify, no source maps, clean dist/ first), --watch (rebuild on change).
 */
import * as esbuild from 'esbuild';
import { existsSync, rmSync, chmodSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints esbuild's problems in the format the `$esbuild-watch` problem matcher expects. */
const reporter = (name) => ({
  name: `report-${name}`,
  setup(build) {
    build.onStart(() => {
      if (watch) console.log(`[watch] build started (${name})`);
    });
    build.onEnd((result) => {
      for (const { text, location } of [...result.errors, ...result.warnings]) {
        console.error(`✘ [${name}] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log(`[watch] build finished (${name})`);
    });
  },
});

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  keepNames: true,
  logLevel: 'silent',
};

/** Exported for scripts/test-cli-bundle.mjs, which builds the CLI for the unit tests with these same options. */
export const targets = [
  { name: 'extension', entry: 'src/extension.ts', options: { ...nodeCommon, outfile: 'dist/extension.js', external: ['vscode'] } },
  { name: 'worker', entry: 'src/worker/inferenceWorker.ts', options: { ...nodeCommon, outfile: 'dist/worker.js' } },
  { name: 'train-worker', entry: 'src/worker/trainWorker.ts', options: { ...nodeCommon, outfile: 'dist/trainWorker.js' } },
  { name: 'train-grad-helper', entry: 'src/model/train/gradHelper.ts', options: { ...nodeCommon, outfile: 'dist/trainGradHelper.js' } },
  { name: 'matmul-helper', entry: 'src/model/kernels/parallel/matmulHelper.ts', options: { ...nodeCommon, outfile: 'dist/matmulHelper.js' } },
  {
    name: 'cli',
    entry: 'src/cli/main.ts',
    options: { ...nodeCommon, outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
    after: () => chmodSync(join(root, 'dist/cli.js'), 0o755),
  },
  {
    name: 'webview-panel',
    entry: 'webview/panel/main.ts',
    options: { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', outfile: 'dist/webview/panel.js', sourcemap: !production, minify: production, logLevel: 'silent' },
  },
  {
    name: 'webview-sidebar',
    entry: 'webview/sidebar/main.ts',
    options: { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', outfile: 'dist/webview/sidebar.js', sourcemap: !production, minify: production, logLevel: 'silent' },
  },
  {
    name: 'webview-train',
    entry: 'webview/train/main.ts',
    options: { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', outfile: 'dist/webview/train.js', sourcemap: !production, minify: production, logLevel: 'silent' },
  },
  {
    name: 'webview-styles',
    entry: 'webview/styles.css',
    options: { bundle: true, outfile: 'dist/webview/styles.css', minify: production, logLevel: 'silent', loader: { '.woff2': 'file', '.ttf': 'file', '.svg': 'file' } },
  },
  // Integration suite that runs inside the extension host (test-electron and code-server).
  { name: 'extension-host-tests', entry: 'test/extension-host/index.ts', options: { ...nodeCommon, minify: false, outfile: 'dist/test/extension-host.js', external: ['vscode'] } },
];

async function main() {
  if (production && !watch) rmSync(join(root, 'dist'), { recursive: true, force: true });
  const contexts = [];
  let failed = false;
  for (const t of targets) {
    const entry = join(root, t.entry);
    if (!existsSync(entry)) {
      console.warn(`⚠ skipping ${t.name}: ${t.entry} does not exist yet`);
      continue;
    }
    const options = { ...t.options, entryPoints: [entry], outfile: join(root, t.options.outfile), absWorkingDir: root, plugins: [reporter(t.name)] };
    if (watch) {
      const ctx = await esbuild.context(options);
      contexts.push(ctx);
      await ctx.watch();
      continue;
    }
    try {
      const started = Date.now();
      await esbuild.build(options);
      t.after?.();
      console.log(`✔ ${t.name.padEnd(22)} → ${relative(root, options.outfile)} (${Date.now() - started} ms)`);
    } catch {
      failed = true; // details already printed by the reporter plugin
    }
  }
  if (watch) {
    console.log(`[watch] watching ${contexts.length} bundles; Ctrl+C to stop`);
    const stop = async () => {
      await Promise.all(contexts.map((c) => c.dispose()));
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }
  if (failed) {
    console.error('build failed');
    process.exit(1);
  }
}

// Builds only when run as a script, not when imported for its targets.
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
