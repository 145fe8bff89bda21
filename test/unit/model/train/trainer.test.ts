/** The optimizer, the training loop, the shipped tasks and the saved folder (loaded back by the ordinary loader). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { loadModelFolder } from '../../../../src/model/loading/loadModel';
import { translate } from '../../../../src/model/explain/explain';
import { AdamW } from '../../../../src/model/train/adamw';
import { decoderInput } from '../../../../src/model/train/model';
import type { Param } from '../../../../src/model/train/params';
import { SaveError, saveMarianFolder } from '../../../../src/model/train/save';
import { letsGoTask, reverseTask, tatoebaTask } from '../../../../src/model/train/tasks';
import { Trainer, TrainingDivergedError } from '../../../../src/model/train/trainer';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'al-train-'));

describe('AdamW', () => {
  test('one step by hand: bias-corrected moments, decoupled decay, warm-up', () => {
    const p: Param = { name: 'w', shape: [2], value: Float32Array.from([1, -2]), grad: Float64Array.from([0.5, -0.25]), decay: true };
    const opt = new AdamW([p], { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, warmupSteps: 4 });
    assert.equal(opt.learningRate(1), 0.025);
    assert.equal(opt.learningRate(4), 0.1);
    opt.update();
    // step 1: m̂ = g, v̂ = g², so the Adam step is lr·g/(|g| + eps) ≈ ±lr; decay shrinks w by lr·λ·w
    const lr = 0.025;
    const expected = [1 - lr * 0.1 * 1 - lr * 0.5 / (0.5 + 1e-8), -2 - lr * 0.1 * -2 + lr * 0.25 / (0.25 + 1e-8)];
    p.value.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `w[${i}] ${v} vs ${expected[i]}`));
  });
});

describe('training loop', () => {
  test('lets-go converges: loss < 0.05 and both sentences translated (seed 1)', () => {
    const t = new Trainer(letsGoTask(), { seed: 1 });
    let loss = Infinity;
    for (let s = 0; s < 300 && loss >= 0.05; s++) loss = t.trainStep();
    assert.ok(loss < 0.05, `loss ${loss}`);
    assert.deepEqual(t.probe(), [{ source: "let's go", translation: 'vamos' }, { source: 'to go', translation: 'ir' }]);
  });

  test('deterministic for a seed, different across seeds', () => {
    const run = (seed: number) => {
      const t = new Trainer(letsGoTask(), { seed });
      return Array.from({ length: 20 }, () => t.trainStep());
    };
    assert.deepEqual(run(3), run(3));
    assert.notDeepEqual(run(3), run(4));
  });

  test('a NaN loss stops training with a clear message and keeps the last good weights', () => {
    const t = new Trainer(letsGoTask(), { seed: 1 });
    t.trainStep();
    const good = t.params.snapshot();
    // poison one weight: every loss from now on is NaN
    const fc1 = t.params.get('encoder.layers.0.fc1.weight');
    fc1.value[0] = NaN;
    good[t.params.list.indexOf(fc1)][0] = NaN;
    assert.throws(() => t.trainStep(), (e: unknown) => e instanceof TrainingDivergedError && /step 2: the loss \(NaN\) is not a finite number \(kept the weights of step 1/.test(e.message));
    assert.equal(t.step, 1);
    t.params.list.forEach((p, i) => assert.deepEqual(p.value, good[i], `${p.name} unchanged`));
  });

  test('reverse task: targets are the reversed sources', () => {
    const task = reverseTask(1);
    for (const p of task.train.slice(0, 50)) assert.equal(p.target, p.source.split(' ').reverse().join(' '));
    assert.deepEqual(task.train[0].labels.slice(0, -1), [...task.train[0].sourceIds.slice(0, -1)].reverse());
  });
});

describe('saved folder', () => {
  test('lets-go: loadModelFolder reads it, tokenizes as the task did, and translates as the trainer does', () => {
    const task = letsGoTask();
    const t = new Trainer(task, { seed: 1 });
    for (let s = 0; s < 150; s++) t.trainStep();
    const dir = tmp();
    saveMarianFolder(dir, task, t.params);
    const lm = loadModelFolder(dir);
    assert.equal(lm.config.dModel, 4);
    for (const p of task.train) {
      assert.deepEqual(lm.tokenizer.encode(p.source).ids, p.sourceIds);
      assert.deepEqual(lm.tokenizer.encodeTarget(p.target).ids, p.labels);
      assert.equal(translate(lm, p.source).text, t.translate(p.sourceIds));
      assert.equal(translate(lm, p.source).text, p.target);
    }
    // the inference engine's logits equal the training forward's
    const src = task.train[0].sourceIds, dec = decoderInput(task.train[0].labels, task.config.decoderStartTokenId);
    const ref = t.model.forward(src, dec).logits;
    const enc = lm.model.encode(src);
    const mem = lm.model.crossMemory(enc);
    const state = lm.model.newDecoderState(dec.length);
    const V = lm.config.vocabSize, logits = new Float32Array(V);
    dec.forEach((id, i) => {
      lm.model.decodeStep([id], [state], mem, logits);
      for (let v = 0; v < V; v++) assert.ok(Math.abs(logits[v] - ref[i * V + v]) < 1e-5);
    });
  });

  test('tatoeba-en-es: compact vocabulary saved with the checkpoint spm; the loader tokenizes as the task', () => {
    const task = tatoebaTask();
    assert.equal(task.train.length, 3000);
    assert.ok(task.config.vocabSize < 7999 && task.config.vocabSize > 500, `vocab ${task.config.vocabSize}`);
    const t = new Trainer(task, { seed: 1 });
    const dir = tmp();
    saveMarianFolder(dir, task, t.params);
    const lm = loadModelFolder(dir);
    for (const p of [...task.train.slice(0, 20), ...task.heldOut.slice(0, 5)]) {
      assert.deepEqual(lm.tokenizer.encode(p.source).ids, p.sourceIds, p.source);
      assert.deepEqual(lm.tokenizer.encodeTarget(p.target).ids, p.labels, p.target);
      assert.equal(task.decode(p.labels), lm.tokenizer.decode(p.labels, { skipSpecialTokens: true }));
    }
  });

  test('a folder that cannot be written is a clear error naming it', () => {
    const file = path.join(tmp(), 'a-file');
    fs.writeFileSync(file, 'x');
    const t = new Trainer(letsGoTask(), { seed: 1 });
    assert.throws(() => saveMarianFolder(path.join(file, 'model'), letsGoTask(), t.params),
      (e: unknown) => e instanceof SaveError && e.message.startsWith(`cannot save the model into ${path.join(file, 'model')}: a file is in the way`));
  });
});

describe('training with the matmul pool', () => {
  test('forward products split over two threads: the same losses as one thread', async () => {
    const { MatmulPool } = await import('../../../../src/model/kernels/parallel/matmulPool');
    const task = reverseTask(1);
    const one = new Trainer(task, { seed: 5 });
    const two = new Trainer(task, { seed: 5 });
    // minWork 0: every product is split, however small
    const pool = new MatmulPool({ threads: 2, minWork: 0 });
    two.model.product = pool.matmul;
    try {
      for (let s = 0; s < 5; s++) assert.equal(two.trainStep(), one.trainStep());
      assert.ok(pool.splitCount > 0, 'products were split');
    } finally {
      await pool.close();
    }
  });
});

describe('data-parallel training (two threads)', () => {
  test('each batch split with a helper thread: the same losses as one thread', async () => {
    const { DataParallelTrainer } = await import('../../../../src/model/train/dataParallel');
    const task = reverseTask(1);
    const one = new Trainer(task, { seed: 5 });
    const two = new DataParallelTrainer(new Trainer(task, { seed: 5 }));
    try {
      for (let s = 0; s < 4; s++) {
        const a = one.trainStep(), b = await two.trainStep();
        // the gradient sums are added in another order: equal up to rounding
        assert.ok(Math.abs(a - b) < 1e-9 * a, `step ${s}: ${a} vs ${b}`);
      }
      assert.equal(two.trainer.step, 4);
    } finally {
      await two.close();
    }
  });
});
