/**
 * Safe DOM builders. Text always goes in through textContent / text nodes, never through HTML parsing,
 * so token strings and translations from the user's document can never become markup.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** The SentencePiece word-boundary marker. */
export const SP_MARKER = '\u2581';

export type Attrs = Record<string, string | number | boolean | undefined>;

export interface ElOptions {
  id?: string;
  className?: string;
  text?: string;
  attrs?: Attrs;
  children?: Array<Node | string>;
}

function checkAttrName(name: string): void {
  // Inline handlers and style attributes are blocked by the CSP anyway; refuse them so mistakes show up in tests.
  if (/^on/i.test(name) || name.toLowerCase() === 'style') throw new Error(`refusing to set attribute "${name}"`);
}

export function setAttrs(node: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    checkAttrName(k);
    if (v === undefined || v === false) node.removeAttribute(k);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

function fill(node: Element, o: ElOptions | undefined): void {
  if (!o) return;
  if (o.id) node.id = o.id;
  if (o.className) node.setAttribute('class', o.className);
  setAttrs(node, o.attrs);
  if (o.text !== undefined) node.textContent = o.text;
  if (o.children) for (const c of o.children) node.append(c);
}

/** Creates an HTML element. */
export function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, o?: ElOptions): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  fill(node, o);
  return node;
}

/** Creates a custom element (e.g. a vscode-elements component) by tag name. */
export function customEl<T extends HTMLElement = HTMLElement>(doc: Document, tag: string, o?: ElOptions): T {
  const node = doc.createElement(tag) as T;
  fill(node, o);
  return node;
}

/** Creates an SVG element. */
export function svgEl<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, o?: ElOptions): SVGElementTagNameMap[K] {
  const node = doc.createElementNS(SVG_NS, tag);
  fill(node, o);
  return node;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Replaces a node's children. */
export function replaceChildren(node: Element, children: Array<Node | string>): void {
  clear(node);
  for (const c of children) node.append(c);
}

/** Shows or hides an element through the `hidden` attribute. */
export function setHidden(node: Element, hidden: boolean): void {
  if (hidden) node.setAttribute('hidden', '');
  else node.removeAttribute('hidden');
}

export function isSpecialPiece(piece: string): boolean {
  return /^<[^<>\s]+>$/.test(piece);
}

/**
 * Appends a SentencePiece piece to `parent` as text, with each "▁" wrapped in a faint marker span.
 * The parent's textContent stays exactly the piece.
 */
export function appendPiece(doc: Document, parent: Element, piece: string): void {
  const parts = piece.split(SP_MARKER);
  parts.forEach((part, i) => {
    if (i > 0) parent.append(el(doc, 'span', { className: 'sp-marker', text: SP_MARKER, attrs: { 'aria-hidden': 'true' } }));
    if (part) parent.append(doc.createTextNode(part));
  });
}

/** A readable form of a piece for labels outside the DOM (canvas, aria-labels): "▁" kept as is. */
export function pieceLabel(piece: string): string {
  return piece === '' ? '∅' : piece;
}

export function formatPercent(p: number, digits = 1): string {
  return Number.isFinite(p) ? `${(p * 100).toFixed(digits)}%` : '–';
}

export function formatValue(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/** True for the keys that activate a button-like element. */
export function isActivationKey(e: KeyboardEvent): boolean {
  return e.key === 'Enter' || e.key === ' ' || e.key === 'Spacebar';
}

/** Makes a non-button element behave like a button for mouse and keyboard. */
export function makeActivatable(node: HTMLElement | SVGElement, onActivate: (e: Event) => void, label?: string): void {
  node.setAttribute('tabindex', '0');
  if (!node.hasAttribute('role')) node.setAttribute('role', 'button');
  if (label !== undefined) node.setAttribute('aria-label', label);
  node.addEventListener('click', onActivate);
  node.addEventListener('keydown', (e) => {
    const ke = e as KeyboardEvent;
    if (isActivationKey(ke)) {
      ke.preventDefault();
      onActivate(ke);
    }
  });
}
