/** The input of both stacks: token embedding × scale + sinusoidal position ("Attention Is All You Need" §3.4–3.5). */
import type { Network } from './linear';
import { sinusoidalPositions } from './positions';

/**
 * Position tables grown on demand: the rows [0, n) of Marian's sinusoids, computed once and shared by the encoder
 * and the decoder (Marian computes them; the checkpoint's embed_positions tables are ignored).
 */
export class PositionTable {
  private table: Float32Array;
  constructor(private readonly dModel: number, initial: number) {
    this.table = sinusoidalPositions(initial, dModel);
  }

  /** [n, dModel]: the sinusoid rows for positions [0, n). */
  rows(n: number): Float32Array {
    const d = this.dModel;
    if (n * d > this.table.length) this.table = sinusoidalPositions(Math.max(n, 2 * this.table.length / d), d);
    return this.table.subarray(0, n * d);
  }
}

/**
 * x[r] = E[tokens[r]]·scale + P[past + r mod newRows] for the rows of `sequences` (tokens.length) / newRows
 * sequences, each continuing `past` positions: the encoder embeds one sequence from 0, a decoder step one new token
 * per hypothesis. scale is √dModel when the config sets scale_embedding, else 1. out: [tokens.length, dModel].
 */
export function embed(
  net: Network, positions: PositionTable, scale: number,
  tokens: ArrayLike<number>, newRows: number, past: number, out: Float32Array,
): void {
  const d = net.config.dModel, E = net.weights.embeddings; // E: [vocab, dModel]
  const P = positions.rows(past + newRows); // [past + newRows, dModel]
  for (let r = 0; r < tokens.length; r++) {
    const eo = tokens[r] * d, po = (past + (r % newRows)) * d, oo = r * d;
    // token embedding, scaled, plus the position's sinusoid
    for (let c = 0; c < d; c++) out[oo + c] = E[eo + c] * scale + P[po + c];
  }
}
