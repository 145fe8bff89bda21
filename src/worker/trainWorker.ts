/**
 * The training worker: runs a TrainSession off the extension host's thread, in slices of ~50 ms so controls
 * (pause, one step, reset, save) are read between slices, and posts a snapshot at most every 250 ms.
 * The host terminates the worker when the panel closes, which stops the training.
 */
import { parentPort } from 'node:worker_threads';
import { saveMarianFolder } from '../model/train/save';
import { TrainSession } from '../model/train/session';
import { TrainingDivergedError } from '../model/train/trainer';
import type { TrainFromWorker, TrainToWorker } from '../shared/trainProtocol';

const SLICE_MS = 50;
const SNAPSHOT_MS = 250;

export class TrainLoop {
  session: TrainSession | undefined;
  running = false;
  private lastSnapshot = 0;
  private scheduled = false;

  constructor(private readonly post: (m: TrainFromWorker) => void) {}

  handle(m: TrainToWorker): void {
    try {
      switch (m.type) {
        case 'configure':
          this.running = false;
          this.session = new TrainSession(m.settings.task, m.settings.seed, m.settings.lr);
          this.snapshot();
          return;
        case 'start':
          if (!this.session) return;
          this.running = true;
          this.schedule();
          return;
        case 'pause':
          this.running = false;
          this.snapshot();
          return;
        case 'step':
          if (!this.session) return;
          this.running = false;
          this.train(() => false, Math.max(1, Math.min(1000, m.count)));
          this.snapshot();
          return;
        case 'save': {
          if (!this.session) throw new Error('nothing to save yet: choose a task first');
          const files = saveMarianFolder(m.folder, this.session.task, this.session.trainer.params);
          const { task, trainer } = this.session;
          this.post({ type: 'saved', folder: m.folder, files, task: task.name, step: trainer.step, probe: task.probes[0]?.source ?? '', ...(m.inspect ? { inspect: true } : {}) });
          return;
        }
      }
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Steps until `enough()` or `max` steps; a diverged step stops the run with its message. */
  private train(enough: () => boolean, max = Infinity): void {
    try {
      for (let i = 0; i < max && !enough(); i++) this.session!.run(1);
    } catch (e) {
      this.running = false;
      if (e instanceof TrainingDivergedError) this.post({ type: 'stopped', message: e.message });
      else throw e;
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running || !this.session) return;
      const until = performance.now() + SLICE_MS;
      try {
        this.train(() => performance.now() >= until || !this.running);
        if (performance.now() - this.lastSnapshot >= SNAPSHOT_MS || !this.running) this.snapshot();
      } catch (e) {
        this.running = false;
        this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      if (this.running) this.schedule();
    });
  }

  private snapshot(): void {
    if (!this.session) return;
    this.lastSnapshot = performance.now();
    this.post({ type: 'snapshot', running: this.running, snapshot: this.session.snapshot() });
  }
}

if (parentPort) {
  const port = parentPort;
  const loop = new TrainLoop((m) => port.postMessage(m));
  port.on('message', (m: TrainToWorker) => loop.handle(m));
}
