/**
 * Which kernels multiply a model's matrices, decided when it is loaded (`attentionLens.kernel`, the CLI's
 * `--kernel`): `simd`, WebAssembly SIMD kernels over weights read into a WebAssembly memory (./wasm/); `js`, the
 * JavaScript kernels over weights in an ordinary SharedArrayBuffer; `auto`, simd where the runtime has it. At
 * `exact` precision both give bit-identical results; at `float32` (the default) simd sums as PyTorch does and
 * differs in the last float32 bits. When simd cannot run (no WebAssembly SIMD, or a model too large for WebAssembly's
 * 4 GiB memory) the model runs on `js` and the plan carries one line saying why.
 */
import { WasmArena, WasmMemoryTooSmall } from './wasm/memory';
import { WasmMatmul, wasmSimdSupported } from './wasm/wasmMatmul';

export const KERNEL_SETTINGS = ['auto', 'simd', 'js'] as const;
export type KernelSetting = (typeof KERNEL_SETTINGS)[number];
export type KernelPath = 'simd' | 'js';

/**
 * How the SIMD kernels sum (`attentionLens.kernelPrecision`, the CLI's `--precision`): `exact`, in doubles in the
 * JavaScript kernels' order (bit-identical to `js`); `float32`, in float32 lanes across k as PyTorch does (faster on
 * multi-row products, last bits differ). The JavaScript kernels are always exact.
 */
export const PRECISIONS = ['exact', 'float32'] as const;
export type Precision = (typeof PRECISIONS)[number];

export function isPrecision(x: unknown): x is Precision {
  return typeof x === 'string' && (PRECISIONS as readonly string[]).includes(x);
}

/** The precision of a load that names none (and of the setting's default). */
export const DEFAULT_PRECISION: Precision = 'float32';

/** The precision a load uses when none is given: $ATTENTION_LENS_PRECISION when it names one, else DEFAULT_PRECISION. */
export function defaultPrecision(): Precision {
  const env = typeof process === 'object' ? process.env.ATTENTION_LENS_PRECISION : undefined;
  return isPrecision(env) ? env : DEFAULT_PRECISION;
}

/** Allocates the bytes a weight tensor (or a whole weight file) is read or widened into. */
export type WeightAllocator = (bytes: number) => Uint8Array;

/** Plain shared memory (the JavaScript path): matmul pool helpers read it without a copy. */
export const sharedBytes: WeightAllocator = (bytes) => new Uint8Array(new SharedArrayBuffer(bytes));

export interface KernelPlan {
  path: KernelPath;
  /** Where the weights go. */
  alloc: WeightAllocator;
  /** The WebAssembly memory (simd only). */
  arena?: WasmArena;
  /** How the SIMD kernels sum (simd only). */
  precision?: Precision;
  /** Why the path differs from the one asked for (one line), if it does. */
  note?: string;
}

/**
 * The setting a load uses when none is given: `auto`, or $ATTENTION_LENS_KERNEL when it names one (so a whole test
 * suite or benchmark can run on one path: `ATTENTION_LENS_KERNEL=js node scripts/test-unit.mjs model/`).
 */
export function defaultKernelSetting(): KernelSetting {
  const env = typeof process === 'object' ? process.env.ATTENTION_LENS_KERNEL : undefined;
  return isKernelSetting(env) ? env : 'auto';
}

export function isKernelSetting(x: unknown): x is KernelSetting {
  return typeof x === 'string' && (KERNEL_SETTINGS as readonly string[]).includes(x);
}

/** The plan for a setting and about `weightBytes` of weights (the file's size). */
export function planKernel(setting: KernelSetting, weightBytes: number, precision: Precision = defaultPrecision()): KernelPlan {
  if (setting === 'js') return { path: 'js', alloc: sharedBytes };
  if (!wasmSimdSupported()) {
    return { path: 'js', alloc: sharedBytes, note: `kernel ${setting}: this runtime has no WebAssembly SIMD (or it is disabled), so the JavaScript kernels run (same results, slower)` };
  }
  try {
    const arena = new WasmArena(weightBytes);
    return { path: 'simd', alloc: (bytes) => arena.bytes(bytes), arena, precision };
  } catch (e) {
    if (e instanceof WasmMemoryTooSmall) return tooLarge(setting, e);
    throw e;
  }
}

/** The fallback when the weights outgrow the WebAssembly memory while loading. */
export function tooLarge(setting: KernelSetting, e: WasmMemoryTooSmall): KernelPlan {
  return { path: 'js', alloc: sharedBytes, note: `kernel ${setting}: the model is too large for WebAssembly memory (${e.message}), so the JavaScript kernels run (same results, slower)` };
}

/** The SIMD kernel object for a plan (undefined on the JavaScript path). */
export function simdKernelFor(plan: KernelPlan): WasmMatmul | undefined {
  return plan.arena ? new WasmMatmul(plan.arena, { precision: plan.precision }) : undefined;
}
