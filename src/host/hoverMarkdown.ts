/**
 * Pure: turns an Explanation plus a hovered source range into the hover's Markdown. Every piece of
 * model or document text is untrusted and goes through `escapeMarkdown`; the only link is the one
 * command link built here, whose arguments are URI-encoded JSON.
 */
import { aggregateRow } from '../shared/attention';
import type { AttentionKind, Explanation } from '../shared/explanation';
import type { HoverAggregation } from './settings';

export const HOVER_HEADING = 'Attention Lens';

/** Bidi overrides and zero-width characters that could make a token look like something else. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const MD_PUNCT = /[\\`*_{}[\]()#+\-.!|~^$:;'"=?@,/%]/g;

/**
 * Makes arbitrary text inert in Markdown (and in the HTML a Markdown renderer might pass through):
 * `&`, `<`, `>` become entities, other ASCII punctuation that Markdown gives meaning to is
 * backslash-escaped (so no emphasis, links, autolinks, code, tables, headings or theme icons can
 * start), and control/invisible characters are shown as `U+XXXX`.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n|\r|\n|\t/g, ' ')
    .replace(INVISIBLE, (c) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)
    .replace(MD_PUNCT, (c) => `\\${c}`)
    .replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** A token label for display: escaped, never empty. */
function tokenLabel(piece: string): string {
  return piece.length === 0 ? '∅' : escapeMarkdown(piece);
}

/** Indices of the source pieces overlapping [start, end) (or containing `start` for an empty range). */
export function piecesInRange(offsets: ReadonlyArray<readonly [number, number]>, start: number, end: number): number[] {
  const out: number[] = [];
  offsets.forEach(([ps, pe], i) => {
    if (pe <= ps) return; // </s> and other zero-width pieces
    const hit = end > start ? ps < end && pe > start : ps <= start && start < pe;
    if (hit) out.push(i);
  });
  return out;
}

export interface AggregationChoice {
  aggregation: HoverAggregation;
  /** 1-based; used by 'layerHead' (clamped to the model). */
  layer: number;
  head: number;
}

/**
 * The hover setting in the terms of the shared aggregation (src/shared/attention.ts): which layers to average,
 * and how each layer's heads are combined.
 */
export function hoverLayers(kind: AttentionKind, choice: AggregationChoice): { layers: number[]; aggregation: 'mean' | 'max' | 'head'; head: number; description: string } {
  const L = kind.layers;
  const H = kind.heads;
  const heads = `${H} head${H === 1 ? '' : 's'}`;
  switch (choice.aggregation) {
    case 'lastLayerMax':
      return { layers: [L - 1], aggregation: 'max', head: 0, description: `layer ${L} of ${L}, max over ${heads}` };
    case 'allLayersMean':
      return { layers: [...Array(L).keys()], aggregation: 'mean', head: 0, description: `mean over all ${L} layers × ${heads}` };
    case 'firstLayerMean':
      return { layers: [0], aggregation: 'mean', head: 0, description: `layer 1 of ${L}, mean of ${heads}` };
    case 'layerHead': {
      const l = Math.min(Math.max(1, Math.round(choice.layer)), L) - 1;
      const h = Math.min(Math.max(1, Math.round(choice.head)), H) - 1;
      return { layers: [l], aggregation: 'head', head: h, description: `layer ${l + 1} of ${L}, head ${h + 1} of ${H}` };
    }
    case 'lastLayerMean':
    default:
      return { layers: [L - 1], aggregation: 'mean', head: 0, description: `layer ${L} of ${L}, mean of ${heads}` };
  }
}

/** Attention row (over keys) of one query under the chosen setting (layers averaged), plus a description of it. */
export function hoverRow(kind: AttentionKind, query: number, choice: AggregationChoice): { row: Float64Array; description: string } {
  if (kind.layers === 0 || kind.heads === 0 || query < 0 || query >= kind.queryLen) return { row: new Float64Array(0), description: '' };
  const { layers, aggregation, head, description } = hoverLayers(kind, choice);
  const row = new Float64Array(kind.keyLen);
  for (const layer of layers) {
    const r = aggregateRow(kind, query, { aggregation, layer, head });
    for (let k = 0; k < row.length; k++) row[k] += r[k];
  }
  for (let k = 0; k < row.length; k++) row[k] /= layers.length;
  return { row, description };
}

export interface AttendedToken {
  index: number;
  piece: string;
  weight: number;
}

/**
 * The `topN` keys the given queries attend to most (rows averaged when the hovered word spans
 * several pieces). Ties keep source order.
 */
export function topAttended(kind: AttentionKind, queries: number[], choice: AggregationChoice, topN: number): { tokens: AttendedToken[]; description: string } {
  if (queries.length === 0) return { tokens: [], description: '' };
  const sum = new Array<number>(kind.keyLen).fill(0);
  let description = '';
  for (const q of queries) {
    const r = hoverRow(kind, q, choice);
    description = r.description;
    r.row.forEach((v, k) => (sum[k] += v));
  }
  const tokens = sum
    .map((w, index) => ({ index, piece: kind.keyTokens[index] ?? '', weight: w / queries.length }))
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .slice(0, Math.max(1, topN));
  return { tokens, description };
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of up to `cells` block characters for a weight in [0, 1], in eighths of a cell. */
export function weightBar(weight: number, cells = 10): string {
  const w = Number.isFinite(weight) ? Math.min(1, Math.max(0, weight)) : 0;
  const eighths = Math.round(w * cells * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

export interface HoverMarkdownOptions extends AggregationChoice {
  topN?: number;
  /** The hovered word as it appears in the document (shown in the heading). */
  queryText?: string;
  /** Adds "Open Attention Lens" as a command link with these arguments. */
  openCommand?: { id: string; args: unknown[] };
}

/** `command:` URI with JSON arguments, encoded so no character can end the Markdown link early. */
export function commandUri(id: string, args: unknown[]): string {
  const encoded = encodeURIComponent(JSON.stringify(args)).replace(/[()'!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `command:${id}?${encoded}`;
}

/**
 * The hover for the source range [start, end) (offsets into `explanation.sourceText`), or undefined
 * when no source piece covers it.
 */
export function buildHoverMarkdown(explanation: Explanation, start: number, end: number, options: HoverMarkdownOptions): string | undefined {
  const queries = piecesInRange(explanation.sourceOffsets, start, end);
  if (queries.length === 0) return undefined;
  const kind = explanation.attentions.encoder;
  const { tokens, description } = topAttended(kind, queries, options, options.topN ?? 5);
  if (tokens.length === 0) return undefined;

  const word = options.queryText ?? explanation.sourceText.slice(start, end);
  const queryPieces = queries.map((q) => tokenLabel(explanation.sourcePieces[q] ?? '')).join(' ');
  const lines: string[] = [];
  lines.push(`#### ${HOVER_HEADING}: ${escapeMarkdown(word.length > 60 ? `${word.slice(0, 60)}…` : word)}`);
  lines.push('');
  lines.push(`Encoder self-attention (${description}) from ${queryPieces}${queries.length > 1 ? ' (rows averaged)' : ''}`);
  lines.push('');
  lines.push('| # | Source token | Weight | |');
  lines.push('|--:|:--|--:|:--|');
  tokens.forEach((t, i) => {
    lines.push(`| ${i + 1} | ${tokenLabel(t.piece)} | ${t.weight.toFixed(3)} | ${weightBar(t.weight)} |`);
  });
  lines.push('');
  const translation = explanation.translation.length > 160 ? `${explanation.translation.slice(0, 160)}…` : explanation.translation;
  lines.push(`Translation: ${escapeMarkdown(translation)}`);
  if (explanation.truncated) {
    lines.push('');
    lines.push(`*Only the first ${explanation.sourcePieces.length} tokens were explained (token budget).*`);
  }
  if (options.openCommand) {
    lines.push('');
    lines.push(`[Open Attention Lens](${commandUri(options.openCommand.id, options.openCommand.args)} "Open the full attention view")`);
  }
  return lines.join('\n');
}
