/** Thrown when a caller's `shouldStop` hook asks a running job to stop. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Polled between layers and decoding steps; a worker backs it with a SharedArrayBuffer flag. */
export type ShouldStop = () => boolean;

export function throwIfStopped(shouldStop: ShouldStop | undefined): void {
  if (shouldStop?.()) throw new CancelledError();
}
