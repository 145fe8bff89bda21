/**
 * The panel's static skeleton. Every id here is part of the DOM contract used by tests and the e2e suite.
 */
import { el, setHidden } from '../shared/dom';

export interface PanelLayout {
  root: HTMLElement;
  status: HTMLElement;
  error: HTMLElement;
  content: HTMLElement;
  modelSummary: HTMLElement;
  tokens: HTMLElement;
  overview: HTMLElement;
  detail: HTMLElement;
  steps: HTMLElement;
  pe: HTMLElement;
}

function section(doc: Document, id: string, title: string, intro?: string): HTMLElement {
  const headingId = `${id}-heading`;
  const s = el(doc, 'section', { id, className: 'section', attrs: { 'aria-labelledby': headingId } });
  s.append(el(doc, 'h2', { id: headingId, text: title }));
  if (intro) s.append(el(doc, 'p', { className: 'intro', text: intro }));
  return s;
}

/** From this panel width on, tokens and steps sit beside the attention detail instead of above and below it. */
export const TWO_COLUMN_MIN_WIDTH = 1100;

/** Switches the content between one column and two (class `two-column`, CSS grid) as the panel is resized. */
function followWidth(doc: Document, content: HTMLElement): void {
  const win = doc.defaultView;
  if (!win) return;
  const apply = () => content.classList.toggle('two-column', win.innerWidth >= TWO_COLUMN_MIN_WIDTH);
  apply();
  win.addEventListener('resize', apply);
}

export function buildPanelLayout(doc: Document): PanelLayout {
  const host = doc.getElementById('app') ?? doc.body;
  const root = el(doc, 'div', { className: 'panel' });
  const header = el(doc, 'header', { className: 'panel-header' });
  header.append(el(doc, 'h1', { text: 'Attention Lens' }));
  const modelSummary = el(doc, 'span', { id: 'model-summary', className: 'model-summary' });
  header.append(modelSummary);
  const status = el(doc, 'div', { id: 'status', className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const error = el(doc, 'div', { id: 'error', className: 'error', attrs: { role: 'alert' } });
  setHidden(error, true);

  const content = el(doc, 'div', { id: 'content', className: 'content' });
  setHidden(content, true);
  const tokens = section(doc, 'tokens', 'Tokens');
  const overview = section(
    doc,
    'overview',
    'Attention overview',
    'Every head of every layer, one thumbnail each (rows: queries, columns: keys). Select one to enlarge it.',
  );
  const detail = section(doc, 'detail', 'Attention detail');
  const steps = section(doc, 'steps', 'Token probabilities', 'The top candidates the model weighed at each decoding step. Select a step to see its cross-attention.');
  const pe = section(doc, 'pe', 'Positional encodings');
  content.append(tokens, overview, detail, steps, pe);

  root.append(header, status, error, content);
  host.append(root);
  followWidth(doc, content);
  return { root, status, error, content, modelSummary, tokens, overview, detail, steps, pe };
}
