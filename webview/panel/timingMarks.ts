/**
 * Performance marks of the newest explanation's arrival in the panel and of its first painted frame, read by the
 * end-to-end timing benchmark (test/e2e/timing.test.ts).
 */
export const RECEIVED_MARK = 'attentionLens.explanationReceived';
export const PAINTED_MARK = 'attentionLens.explanationPainted';

export function markTime(name: string): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  performance.clearMarks(name);
  performance.mark(name);
}
