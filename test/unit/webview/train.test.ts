/** The "Train a tiny transformer" webview in jsdom, fed real snapshots of a training run. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import { TrainSession } from '../../../src/model/train/session';
import { toWire, type TrainFromWebview, type TrainFromWorker } from '../../../src/shared/trainProtocol';
import { mountTrainView } from '../../../webview/train/main';

const open: JSDOM[] = [];
afterEach(() => {
  for (const d of open.splice(0)) d.window.close();
});

function boot() {
  const dom = new JSDOM('<!doctype html><html><body><div id="app"></div></body></html>');
  open.push(dom);
  const doc = dom.window.document;
  const sent: TrainFromWebview[] = [];
  const receive = mountTrainView(doc.getElementById('app')!, (m) => sent.push(m));
  return { doc, sent, receive: (m: TrainFromWorker) => receive(toWire(m) as TrainFromWorker) };
}

describe('train webview', () => {
  const session = new TrainSession('lets-go', 1);
  session.run(150);
  const snapshot = session.snapshot();

  it('shows the step, the loss curve, the probes, every head and the 2-D scatter', () => {
    const { doc, receive } = boot();
    receive({ type: 'snapshot', running: false, snapshot });
    assert.match(doc.querySelector('.train-status')!.textContent!, /step 150 · loss 0\.0\d+ · paused/);
    assert.ok((doc.querySelector('.loss-train')!.getAttribute('d') ?? '').length > 100, 'a drawn training curve');
    assert.ok((doc.querySelector('.loss-heldout')!.getAttribute('d') ?? '').startsWith('M'), 'a drawn held-out curve');
    const cells = [...doc.querySelectorAll('.train-probes td')].map((td) => td.textContent);
    assert.deepEqual(cells, ["let's go", 'vamos', 'vamos', 'to go', 'ir', 'ir']);
    // one layer and one head per kind: encoder self, decoder self, cross
    const figures = [...doc.querySelectorAll('.train-heatmap figcaption')].map((f) => f.textContent);
    assert.deepEqual(figures, ['encoder self · layer 1 · head 1', 'decoder self (masked) · layer 1 · head 1', 'cross · layer 1 · head 1']);
    // cross-attention cells: 2 target rows (<start>, vamos) × 3 source keys (let's, go, </s>), opacity from the weights
    const cross = doc.querySelectorAll('.train-heatmap')[2];
    const ops = [...cross.querySelectorAll('rect')].map((r) => Number(r.getAttribute('fill-opacity')));
    assert.equal(ops.length, 6);
    const w = snapshot.attention.kinds.cross.weights;
    ops.forEach((o, i) => assert.ok(Math.abs(o - (0.05 + 0.95 * w[i])) < 1e-9));
    assert.equal(doc.querySelectorAll('.pt-word circle').length, 5);
    assert.equal(doc.querySelectorAll('.pt-input circle').length, 4);
    assert.ok([...doc.querySelectorAll('.pt-input text')].some((t) => t.textContent === "let's@0"));
    assert.equal(doc.querySelectorAll('.train-notes li').length, 2);
  });

  it('controls post their messages', () => {
    const { doc, sent } = boot();
    const click = (text: string) => [...doc.querySelectorAll('button')].find((b) => b.textContent === text)!.click();
    click('Start');
    click('One step');
    click('Pause');
    click('Save…');
    click('Explain at this step');
    (doc.querySelector('input[type=number]') as HTMLInputElement).value = '7';
    click('Reset');
    assert.deepEqual(sent, [
      { type: 'start' }, { type: 'step', count: 1 }, { type: 'pause' }, { type: 'save' }, { type: 'inspect' },
      { type: 'configure', settings: { task: 'lets-go', seed: 7, lr: undefined } },
    ]);
  });

  it('text from messages is inert (textContent only)', () => {
    const { doc, receive } = boot();
    const evil = '<img src=x onerror="alert(1)">';
    receive({ type: 'snapshot', running: true, snapshot: { ...snapshot, title: evil, probes: [{ source: evil, target: evil, translation: evil }] } });
    receive({ type: 'error', message: evil });
    assert.equal(doc.querySelectorAll('img').length, 0);
    assert.ok(doc.querySelector('.train-status')!.textContent!.includes(evil));
  });
});
