/**
 * The "Train a tiny transformer" webview: controls, the live loss curve (d3), probe translations, every attention
 * head of the first probe as a heatmap, and for the toy task a 2-D scatter of the embeddings. Text only ever goes
 * in through textContent (d3's .text()); colours are the theme's.
 */
import { axisBottom, axisLeft } from 'd3-axis';
import { scaleBand, scaleLinear, scaleLog } from 'd3-scale';
import { select, type Selection } from 'd3-selection';
import { line } from 'd3-shape';
import type { AttentionKind } from '../../src/shared/explanation';
import { headMatrix } from '../../src/shared/attention';
import type { TrainFromWebview, TrainFromWorker, TrainSnapshot } from '../../src/shared/trainProtocol';
import { getVsCodeApi } from '../shared/vscodeApi';

const TASKS: Array<[string, string]> = [
  ['lets-go', '"let\'s go" → "vamos" (d_model 4)'],
  ['reverse', 'reverse symbols (cross-attention → anti-diagonal)'],
  ['tatoeba-en-es', 'English → Spanish, 3,000 short pairs'],
];

type Svg = Selection<SVGSVGElement, unknown, null, undefined>;

export function mountTrainView(root: HTMLElement, send: (m: TrainFromWebview) => void): (m: TrainFromWorker) => void {
  const doc = root.ownerDocument;
  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, parent: HTMLElement, cls?: string, text?: string): HTMLElementTagNameMap[K] => {
    const e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };
  root.textContent = '';
  el('h1', root, undefined, 'Train a tiny transformer');
  const controls = el('form', root, 'train-controls');
  controls.setAttribute('aria-label', 'Training settings');
  const label = (text: string, input: HTMLElement): void => {
    const l = el('label', controls, undefined, text + ' ');
    l.appendChild(input);
  };
  const task = doc.createElement('select');
  for (const [value, text] of TASKS) {
    const o = el('option', task as unknown as HTMLElement, undefined, text);
    o.value = value;
  }
  label('Task', task);
  const seed = doc.createElement('input');
  seed.type = 'number';
  seed.min = '0';
  seed.value = '1';
  label('Seed', seed);
  const lr = doc.createElement('input');
  lr.type = 'number';
  lr.step = 'any';
  lr.min = '0';
  lr.placeholder = "task's";
  label('Learning rate', lr);
  const button = (text: string, onClick: () => void): HTMLButtonElement => {
    const b = el('button', controls, undefined, text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  };
  const settings = () => ({ task: task.value, seed: Math.max(0, Math.floor(Number(seed.value) || 0)), lr: Number(lr.value) > 0 ? Number(lr.value) : undefined });
  const start = button('Start', () => send({ type: 'start' }));
  const pause = button('Pause', () => send({ type: 'pause' }));
  button('One step', () => send({ type: 'step', count: 1 }));
  button('Reset', () => send({ type: 'configure', settings: settings() }));
  button('Save…', () => send({ type: 'save' }));
  // the panel's views (heads, walk-through, token probabilities) on the weights as they are now
  const inspect = button('Explain at this step', () => send({ type: 'inspect' }));
  inspect.title = 'Explain the first probe with the model as it is now, in the attention panel';
  task.addEventListener('change', () => send({ type: 'configure', settings: settings() }));
  const status = el('p', root, 'train-status', 'Choose a task, then Start.');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  const notes = el('ul', root, 'train-notes');

  el('h2', root, undefined, 'Loss');
  const lossSvg: Svg = select(root).append('svg').attr('class', 'train-loss').attr('width', 520).attr('height', 220).attr('role', 'img').attr('aria-label', 'Training and held-out loss by step');
  el('h2', root, undefined, 'Probe translations');
  const probes = el('table', root, 'train-probes');
  el('h2', root, undefined, 'Attention of the first probe');
  const heat = el('div', root, 'train-heatmaps');
  const scatterTitle = el('h2', root, undefined, 'Embeddings in 2-D');
  const scatterSvg: Svg = select(root).append('svg').attr('class', 'train-scatter').attr('width', 420).attr('height', 320).attr('role', 'img');

  const drawLoss = (s: TrainSnapshot): void => {
    lossSvg.selectAll('*').remove();
    const pts = s.lossCurve;
    if (pts.length === 0) return;
    const m = { l: 48, r: 12, t: 10, b: 28 }, w = 520, h = 220;
    const x = scaleLinear().domain([0, Math.max(1, pts[pts.length - 1].step)]).range([m.l, w - m.r]);
    const lo = Math.max(1e-4, Math.min(...pts.map((p) => Math.min(p.train, p.heldOut ?? Infinity))));
    const y = scaleLog().domain([lo, Math.max(lo * 10, ...pts.map((p) => p.train))]).range([h - m.b, m.t]).clamp(true);
    lossSvg.append('g').attr('transform', `translate(0,${h - m.b})`).attr('class', 'axis').call(axisBottom(x).ticks(6));
    lossSvg.append('g').attr('transform', `translate(${m.l},0)`).attr('class', 'axis').call(axisLeft(y).ticks(4, '~g'));
    const train = line<{ step: number; v: number }>().x((p) => x(p.step)).y((p) => y(Math.max(lo, p.v)));
    lossSvg.append('path').attr('class', 'loss-train').attr('d', train(pts.map((p) => ({ step: p.step, v: p.train }))) ?? '');
    const held = pts.filter((p) => p.heldOut !== undefined).map((p) => ({ step: p.step, v: p.heldOut! }));
    lossSvg.append('path').attr('class', 'loss-heldout').attr('d', train(held) ?? '');
    lossSvg.append('text').attr('class', 'legend loss-train-label').attr('x', w - 150).attr('y', 20).text('training');
    lossSvg.append('text').attr('class', 'legend loss-heldout-label').attr('x', w - 150).attr('y', 36).text('held-out');
  };

  const drawProbes = (s: TrainSnapshot): void => {
    probes.textContent = '';
    const head = el('tr', probes as unknown as HTMLElement);
    for (const t of ['source', 'translation now', 'reference']) el('th', head, undefined, t);
    for (const p of s.probes) {
      const tr = el('tr', probes as unknown as HTMLElement);
      el('td', tr, undefined, p.source);
      el('td', tr, p.translation === p.target ? 'probe-right' : 'probe-wrong', p.translation || '(nothing yet)');
      el('td', tr, undefined, p.target);
    }
  };

  const drawHeatmap = (parent: HTMLElement, kind: AttentionKind, name: string, layer: number, h: number): void => {
    const fig = el('figure', parent, 'train-heatmap');
    el('figcaption', fig, undefined, `${name} · layer ${layer + 1} · head ${h + 1}`);
    const cell = 18, left = 70, top = 60;
    // key labels lean right (rotated −60°): room for the longest one past the last column (up to ~8 px a character, cos 60° = ½)
    const right = Math.max(4, Math.ceil(Math.max(0, ...kind.keyTokens.map((t) => t.length)) * 4) - cell / 2);
    const svg = select(fig).append('svg').attr('width', left + kind.keyLen * cell + right).attr('height', top + kind.queryLen * cell + 4)
      .attr('role', 'img').attr('aria-label', `${name} attention, layer ${layer + 1}, head ${h + 1}`);
    const m = headMatrix(kind, layer, h);
    const xs = scaleBand<number>().domain([...Array(kind.keyLen).keys()]).range([left, left + kind.keyLen * cell]);
    const ys = scaleBand<number>().domain([...Array(kind.queryLen).keys()]).range([top, top + kind.queryLen * cell]);
    const cells = [...m].map((v, i) => ({ q: Math.floor(i / kind.keyLen), k: i % kind.keyLen, v }));
    svg.selectAll('rect').data(cells).join('rect').attr('class', 'heat-cell')
      .attr('x', (c) => xs(c.k)!).attr('y', (c) => ys(c.q)!).attr('width', cell - 1).attr('height', cell - 1)
      .attr('fill-opacity', (c) => 0.05 + 0.95 * c.v)
      .append('title').text((c) => `${kind.queryTokens[c.q]} → ${kind.keyTokens[c.k]}: ${c.v.toFixed(3)}`);
    svg.selectAll('text.key').data(kind.keyTokens).join('text').attr('class', 'key tok')
      .attr('transform', (_t, i) => `translate(${xs(i)! + cell / 2},${top - 4}) rotate(-60)`).text((t) => t);
    svg.selectAll('text.query').data(kind.queryTokens).join('text').attr('class', 'query tok')
      .attr('x', left - 4).attr('y', (_t, i) => ys(i)! + cell * 0.7).attr('text-anchor', 'end').text((t) => t);
  };

  const drawHeatmaps = (s: TrainSnapshot): void => {
    heat.textContent = '';
    el('p', heat, 'train-probe-line', `"${s.attention.source}", teacher forced with its reference translation`);
    const names = { encoder: 'encoder self', decoder: 'decoder self (masked)', cross: 'cross' } as const;
    for (const [key, name] of Object.entries(names) as Array<[keyof typeof names, string]>) {
      const kind = s.attention.kinds[key];
      const weights = Float32Array.from(kind.weights as unknown as ArrayLike<number>);
      const k = { ...kind, weights };
      for (let l = 0; l < k.layers; l++) for (let h = 0; h < k.heads; h++) drawHeatmap(heat, k, name, l, h);
    }
  };

  const drawScatter = (s: TrainSnapshot): void => {
    scatterSvg.selectAll('*').remove();
    const sc = s.scatter;
    scatterTitle.hidden = !sc;
    scatterSvg.attr('display', sc ? null : 'none');
    if (!sc) return;
    scatterSvg.attr('aria-label', `Word embeddings (dots) and embedding + position (rings), projected on ${sc.projection}`);
    const all = [...sc.words, ...sc.inputs];
    const ext = (f: (p: { x: number; y: number }) => number) => {
      const v = all.map(f);
      const lo = Math.min(...v), hi = Math.max(...v), pad = (hi - lo) * 0.15 || 1;
      return [lo - pad, hi + pad];
    };
    const x = scaleLinear().domain(ext((p) => p.x)).range([20, 400]);
    const y = scaleLinear().domain(ext((p) => p.y)).range([300, 20]);
    const g = scatterSvg.append('g');
    const draw = (pts: typeof all, cls: string) => {
      const sel = g.selectAll(`g.${cls}`).data(pts).join('g').attr('class', cls).attr('transform', (p) => `translate(${x(p.x)},${y(p.y)})`);
      sel.append('circle').attr('r', 5);
      sel.append('text').attr('x', 7).attr('y', 4).text((p) => p.label);
    };
    draw(sc.words, 'pt-word');
    draw(sc.inputs, 'pt-input');
  };

  return (m: TrainFromWorker): void => {
    switch (m.type) {
      case 'snapshot': {
        const s = m.snapshot;
        const last = s.lossCurve[s.lossCurve.length - 1];
        status.textContent = `${s.title} · seed ${s.seed} · learning rate ${s.lr} · step ${s.step}` +
          (last ? ` · loss ${last.train.toFixed(4)}` : '') + (m.running ? ' · training…' : ' · paused');
        start.disabled = m.running;
        pause.disabled = !m.running;
        notes.textContent = '';
        for (const n of s.notes) el('li', notes, undefined, n);
        drawLoss(s);
        drawProbes(s);
        drawHeatmaps(s);
        drawScatter(s);
        return;
      }
      case 'stopped':
        status.textContent = m.message;
        start.disabled = false;
        pause.disabled = true;
        return;
      case 'saved':
        status.textContent = m.inspect
          ? `Explaining “${m.probe}” with the model at step ${m.step} in the attention panel.`
          : `Saved to ${m.folder} (${m.files.join(', ')}). "Choose model folder…" opens it.`;
        return;
      case 'error':
        status.textContent = `Error: ${m.message}`;
        return;
    }
  };
}

if (typeof document !== 'undefined' && document.body?.dataset.app === 'train') {
  const api = getVsCodeApi<unknown>();
  const root = document.getElementById('app')!;
  const onMessage = mountTrainView(root, (m) => api.postMessage(m));
  window.addEventListener('message', (e: MessageEvent<TrainFromWorker>) => onMessage(e.data));
  // the host sends nothing before `ready`
  api.postMessage({ type: 'ready' } satisfies TrainFromWebview);
  api.postMessage({ type: 'configure', settings: { task: 'lets-go', seed: 1 } } satisfies TrainFromWebview);
}
