/**
 * The kernel paths the benchmark measures side by side over the same weights: `simd-f32` (WebAssembly SIMD with
 * float32 sums: the default), `simd` (the same memory, exact double sums) and `js` (the JavaScript kernels).
 */
import type { MarianModel } from '../src/model/marian';
import { WasmMatmul } from '../src/model/kernels/wasm/wasmMatmul';

export type BenchPath = 'simd' | 'simd-f32' | 'js';

export interface BenchPaths {
  /** Every path this runtime offers, the model's default first. */
  paths: BenchPath[];
  defaultPath: BenchPath;
  use: (p: BenchPath) => void;
  /** The SIMD kernels of each precision (absent without WebAssembly SIMD). */
  exact?: WasmMatmul;
  float32?: WasmMatmul;
}

/** The paths for a freshly loaded model, and a switch between them. */
export function benchPaths(model: MarianModel): BenchPaths {
  const loaded = model.simdKernel;
  if (!loaded) return { paths: ['js'], defaultPath: 'js', use: () => model.useKernel(undefined) };
  const other = new WasmMatmul(loaded.arena, { precision: loaded.float32 ? 'exact' : 'float32' });
  other.weightsEnd = loaded.weightsEnd; // only the weights read at load get interleaved copies, never scratch rows
  const exact = loaded.float32 ? other : loaded, float32 = loaded.float32 ? loaded : other;
  const defaultPath: BenchPath = loaded.float32 ? 'simd-f32' : 'simd';
  const paths: BenchPath[] = [defaultPath, defaultPath === 'simd' ? 'simd-f32' : 'simd', 'js'];
  return { paths, defaultPath, exact, float32, use: (p) => model.useKernel(p === 'simd' ? exact : p === 'simd-f32' ? float32 : undefined) };
}
