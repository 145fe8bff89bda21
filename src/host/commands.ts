/** Identifiers contributed in package.json (kept in one place; pure, no `vscode`). */
export const COMMANDS = {
  explainSelection: 'attentionLens.explainSelection',
  chooseModel: 'attentionLens.chooseModel',
  walkThroughExample: 'attentionLens.walkThroughExample',
  compareWith: 'attentionLens.compareWith',
  /** Internal: target of the hover's "Open Attention Lens" link. Args: [{ uri, start, end }]. */
  openFromHover: 'attentionLens.openFromHover',
  /** Internal test hook: the last explanation shown in the panel (JSON) and where it came from. */
  lastExplanation: 'attentionLens._lastExplanation',
  /** Internal test hook: panel, side view and model state. */
  testState: 'attentionLens._testState',
} as const;

export const VIEWS = {
  panel: 'attentionLens.panel',
  container: 'attentionLens',
  translation: 'attentionLens.translation',
} as const;

export const PANEL_TITLE_PREFIX = 'Attention: ';
