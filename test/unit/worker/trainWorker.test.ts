/** The training worker's loop, run in this thread: controls, snapshots, save, and a diverged run. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModelFolder } from '../../../src/model/loading/loadModel';
import type { TrainFromWorker } from '../../../src/shared/trainProtocol';
import { TrainLoop } from '../../../src/worker/trainWorker';

describe('training worker loop', () => {
  it('configure, step, save: snapshots, then a folder the loader reads', () => {
    const got: TrainFromWorker[] = [];
    const loop = new TrainLoop((m) => got.push(m));
    loop.handle({ type: 'configure', settings: { task: 'lets-go', seed: 1 } });
    assert.equal(got.length, 1);
    assert.equal(got[0].type === 'snapshot' && got[0].snapshot.step, 0);
    loop.handle({ type: 'step', count: 150 });
    const snap = got[1];
    assert.ok(snap.type === 'snapshot' && snap.snapshot.step === 150 && snap.snapshot.lossCurve.length === 150);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-train-worker-')), 'saved');
    loop.handle({ type: 'save', folder: dir });
    assert.deepEqual(got[2].type === 'saved' && { task: got[2].task, step: got[2].step, probe: got[2].probe, inspect: got[2].inspect }, { task: 'lets-go', step: 150, probe: snap.type === 'snapshot' ? snap.snapshot.probes[0].source : '?', inspect: undefined });
    assert.equal(loadModelFolder(dir).config.dModel, 4);
    // a snapshot for the explanation views says so, and names the step it was taken at
    loop.handle({ type: 'step', count: 5 });
    const inspectDir = path.join(path.dirname(dir), 'snapshot');
    loop.handle({ type: 'save', folder: inspectDir, inspect: true });
    const saved = got[got.length - 1];
    assert.ok(saved.type === 'saved' && saved.inspect === true && saved.step === 155 && saved.folder === inspectDir);
    assert.equal(loadModelFolder(inspectDir).config.dModel, 4);
  });

  it('start runs until pause, in slices that leave the thread free', async () => {
    const got: TrainFromWorker[] = [];
    const loop = new TrainLoop((m) => got.push(m));
    loop.handle({ type: 'configure', settings: { task: 'lets-go', seed: 2 } });
    loop.handle({ type: 'start' });
    // the loop yields between slices, so this timer fires while it trains
    await new Promise((r) => setTimeout(r, 300));
    loop.handle({ type: 'pause' });
    const last = got[got.length - 1];
    assert.ok(last.type === 'snapshot' && !last.running && last.snapshot.step > 0);
    const steps = last.type === 'snapshot' ? last.snapshot.step : -1;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(loop.session!.trainer.step, steps, 'paused: no more steps');
  });

  it('a non-finite loss stops the run with its message; saving into a file path is an error message', () => {
    const got: TrainFromWorker[] = [];
    const loop = new TrainLoop((m) => got.push(m));
    loop.handle({ type: 'configure', settings: { task: 'lets-go', seed: 1 } });
    loop.session!.trainer.params.get('decoder.layers.0.fc2.weight').value[3] = Infinity;
    loop.handle({ type: 'step', count: 5 });
    const stopped = got.find((m) => m.type === 'stopped');
    assert.ok(stopped && stopped.type === 'stopped' && /step 1: the loss \(NaN\) is not a finite number/.test(stopped.message), JSON.stringify(stopped));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-train-worker-')), 'f');
    fs.writeFileSync(file, '');
    loop.handle({ type: 'save', folder: path.join(file, 'model') });
    const err = got[got.length - 1];
    assert.ok(err.type === 'error' && err.message.startsWith('cannot save the model into'));
  });
});
