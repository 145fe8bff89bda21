/**
 * When to stop splitting products over helper threads for a while. When other programs keep the cores busy, a
 * helper gets preempted in the middle of its chunk and the caller waits for it: splitting then costs more than it
 * saves. The pool reports, for every split product, how long the caller spent on its own chunks and how long it
 * then waited for the helpers. Over a window of products, a caller that waited at least as long as it worked
 * gained nothing from the split (a perfect split waits ~0); the pool then works alone for a back-off period,
 * doubled each time the window right after a back-off loses again (up to a maximum), and starting short again
 * after a window that paid. One slow product (a helper's garbage collection, a kernel compiling) does not tip a
 * whole window.
 */
export interface SplitBackOffOptions {
  /** Split products per verdict (default 128: tens of ms of work in the bundled model). */
  window?: number;
  firstMs?: number;
  maxMs?: number;
}

export class SplitBackOff {
  private readonly window: number;
  private readonly firstMs: number;
  private readonly maxMs: number;
  private left: number;
  private ownMs = 0;
  private waitedMs = 0;
  private until = -Infinity;
  private lengthMs: number;
  /** The window being filled started right after a back-off. */
  private probing = false;
  /** Back-offs so far (for tests and the benchmark). */
  count = 0;

  constructor(opts: SplitBackOffOptions = {}) {
    this.window = opts.window ?? 128;
    this.firstMs = opts.firstMs ?? 250;
    this.maxMs = opts.maxMs ?? 8000;
    this.left = this.window;
    this.lengthMs = this.firstMs;
  }

  /** Whether products may be split at time `now` (ms, performance.now()). */
  allows(now: number): boolean {
    return now >= this.until;
  }

  /** One split product: the caller's time on its own chunks and its wait for the helpers afterwards. */
  record(ownMs: number, waitedMs: number, now: number): void {
    this.ownMs += ownMs;
    this.waitedMs += waitedMs;
    if (--this.left > 0) return;
    if (this.waitedMs >= this.ownMs) {
      this.lengthMs = this.probing ? Math.min(this.maxMs, 2 * this.lengthMs) : this.firstMs;
      this.until = now + this.lengthMs;
      this.count++;
      this.probing = true;
    } else {
      this.probing = false;
    }
    this.left = this.window;
    this.ownMs = 0;
    this.waitedMs = 0;
  }

  /** Length of the latest back-off, ms. */
  get lastBackOffMs(): number {
    return this.count > 0 ? this.lengthMs : 0;
  }
}
