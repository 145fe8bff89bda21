/**
 * What every panel section may use: the document, the current data and view, and ways to change them.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { FromWebviewMessage, PanelViewState } from '../../src/shared/protocol';
import type { ColorFn } from '../shared/colorScale';
import type { VisibleFloor } from '../shared/heatmap';
import type { ThemeColors } from '../shared/theme';

export interface Palette {
  fn: ColorFn;
  lut: Uint8ClampedArray;
  theme: ThemeColors;
  /** High-contrast themes: where small weights start on the scale (see heatmap.ts); undefined otherwise. */
  floor: VisibleFloor | undefined;
}

export interface PanelContext {
  readonly doc: Document;
  explanation(): Explanation | undefined;
  view(): PanelViewState;
  updateView(patch: Partial<PanelViewState>): void;
  post(message: FromWebviewMessage): void;
  palette(): Palette;
  showError(message: string): void;
}

/** A section of the panel: `render` when a new explanation arrives, `update` when only the view changed. */
export interface Section {
  render(explanation: Explanation): void;
  update(view: PanelViewState, previous: PanelViewState | undefined): void;
  /** Colours changed (scheme or theme): redraw everything that is coloured. */
  recolor?(): void;
}
