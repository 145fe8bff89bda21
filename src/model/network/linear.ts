/** What every layer unit needs, and the Linear layer they all use. */
import type { MarianConfig } from '../loading/config';
import type { Linear, MarianWeights } from '../loading/weights';
import type { MatmulFn } from '../kernels/parallel/matmulPool';

/** The model a unit belongs to: its sizes, its weights, and the matrix product to run (one thread or the pool). */
export interface Network {
  readonly config: MarianConfig;
  readonly weights: MarianWeights;
  readonly matmul: MatmulFn;
}

/** y = x·Wᵀ + b over `rows` rows of x (PyTorch's [out, in] weight), written to out from row `outRow`. */
export function linear(net: Network, w: Linear, x: Float32Array, rows: number, out: Float32Array, outRow = 0): void {
  net.matmul(x, rows, w.inDim, w.weight, w.outDim, out, w.bias, 0, outRow * w.outDim);
}
