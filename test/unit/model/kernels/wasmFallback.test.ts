/**
 * Choosing the kernel path at load: simd and js give the same explanation; `js` never touches WebAssembly; a runtime
 * without WebAssembly (node --noexpose-wasm) and a model too large for WebAssembly memory fall back to js with one
 * note, never an error; the same golden translation comes out either way.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { explain, loadModelFolder } from '../../../../src/model';
import { loadMarianNetwork } from '../../../../src/model/loading/loadNetwork';
import { isShared } from '../../../../src/model/kernels/parallel/matmulPool';
import { planKernel } from '../../../../src/model/kernels/kernelChoice';
import { wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { parseSafetensors } from '../../../../src/model/loading/safetensors';
import { writeSafetensors } from '../../../helpers/modelFiles';
import { BUNDLED_MODEL, ROOT, TINY_MODEL, readJson } from '../../../helpers/golden';

const simd = wasmSimdSupported();

describe('kernel choice at load', () => {
  test('simd and js explain a sentence identically (every number), and js keeps the weights out of WebAssembly', { skip: !simd && 'no WebAssembly SIMD here' }, () => {
    const notes: string[] = [];
    const a = loadModelFolder(BUNDLED_MODEL, { kernel: 'simd', precision: 'exact', onNote: (l) => notes.push(l) });
    const b = loadModelFolder(BUNDLED_MODEL, { kernel: 'js', onNote: (l) => notes.push(l) });
    assert.deepEqual(notes, []);
    assert.equal(a.model.kernelPath, 'simd');
    assert.equal(b.model.kernelPath, 'js');
    assert.equal(b.model.simdKernel, undefined);
    const wasmBuffer = a.model.simdKernel!.arena.buffer;
    assert.ok(a.model.simdKernel!.arena.addressOf(a.model.weights.encoder[0].fc1.weight) > 0, 'simd: weights in the WebAssembly memory');
    assert.notEqual(b.model.weights.lmHead.buffer, wasmBuffer);
    assert.ok(isShared(b.model.weights.lmHead), 'js: weights in plain shared memory (for the pool)');
    const text = 'The lion kills the tiger in the long grass by the river.';
    const ea = explain(a, text, { numBeams: 2 }), eb = explain(b, text, { numBeams: 2 });
    assert.deepEqual({ ...ea, timingsMs: undefined }, { ...eb, timingsMs: undefined });
    assert.ok(a.model.simdKernel!.wasmCalls > 0 && a.model.simdKernel!.jsCalls === 0, 'every product ran on the SIMD kernels');
  });

  test('BF16 weights are widened into the WebAssembly memory and give the js path\'s numbers', { skip: !simd && 'no WebAssembly SIMD here' }, () => {
    // the tiny checkpoint as BF16 (the upper half of each float32: exact BF16 values)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-bf16-'));
    try {
      for (const f of fs.readdirSync(TINY_MODEL)) if (f !== 'model.safetensors') fs.copyFileSync(path.join(TINY_MODEL, f), path.join(dir, f));
      const file = path.join(TINY_MODEL, 'model.safetensors');
      const tensors = [...parseSafetensors(file, new Uint8Array(fs.readFileSync(file))).entries()];
      writeSafetensors(path.join(dir, 'model.safetensors'), tensors.map(([name, t]) => ({ name, dtype: 'BF16', shape: t.shape })), (i) => {
        const f32 = new Uint8Array(tensors[i][1].bytes), out = new Uint8Array(f32.length / 2);
        for (let j = 0; j < out.length / 2; j++) { out[2 * j] = f32[4 * j + 2]; out[2 * j + 1] = f32[4 * j + 3]; }
        return out;
      });
      const a = loadMarianNetwork(dir, { kernel: 'simd', precision: 'exact' }), b = loadMarianNetwork(dir, { kernel: 'js' });
      assert.ok(a.model.simdKernel!.arena.addressOf(a.model.weights.decoder[0].fc2.weight) > 0, 'widened into the WebAssembly memory');
      const w = a.model.weights.decoder[0].fc2.weight, bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
      assert.ok(bits.every((x) => (x & 0xffff) === 0), 'BF16 values (low half zero)');
      const ids = [5, 9, 13, 2, 0];
      const ha = a.model.encode(ids).hidden, hb = b.model.encode(ids).hidden;
      assert.ok(ha.every((x, i) => Object.is(x, hb[i])));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a model too large for WebAssembly memory runs on js with a clear note', () => {
    const plan = planKernel('simd', 5 * 2 ** 30);
    assert.equal(plan.path, 'js');
    assert.match(plan.note ?? '', /too large for WebAssembly memory .*exceed WebAssembly's 4 GiB memory.*JavaScript kernels run/);
    assert.equal(planKernel('js', 5 * 2 ** 30).note, undefined, 'asking for js is not a fallback');
  });

  test('a runtime without WebAssembly falls back to js with one log line, and translates as Hugging Face does', () => {
    const golden = readJson<{ sentences: Array<{ text: string; greedy_text: string }> }>('test', 'fixtures', 'checkpoint', 'golden.json').sentences[0];
    const script = [
      `const { loadModelFolder, translate } = require(${JSON.stringify(path.join(ROOT, 'src', 'model'))});`,
      `const lm = loadModelFolder(${JSON.stringify(BUNDLED_MODEL)}, { kernel: 'simd' });`,
      `process.stdout.write(JSON.stringify({ path: lm.model.kernelPath, wasm: typeof WebAssembly, text: translate(lm, ${JSON.stringify(golden.text)}).text }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--noexpose-wasm', '--require', 'tsx/cjs', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { path: string; wasm: string; text: string };
    assert.deepEqual(out, { path: 'js', wasm: 'undefined', text: golden.greedy_text });
    const lines = r.stderr.split('\n').filter((l) => l.includes('attention-lens'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /no WebAssembly SIMD .*JavaScript kernels run/);
  });
});
