/** Builds (gcc -O3 -march=native, into bench/.cache/) and runs bench/peak_fma.c: this CPU's arithmetic ceiling. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR } from './paths';

export interface Peak {
  /** AVX2 FMA single precision, one core (null when the compiler targets no AVX+FMA). */
  fmaF32Gflops: number | null;
  /** Scalar double multiply + add, one core: the kind of code V8 emits. */
  scalarF64Gflops: number;
  simd: string;
}

export function measurePeak(): { peak?: Peak; why?: string } {
  const src = path.join(BENCH_DIR, 'peak_fma.c');
  const bin = path.join(BENCH_DIR, '.cache', 'peak_fma');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(src).mtimeMs) {
    const cc = process.env.CC ?? 'gcc';
    const r = spawnSync(cc, ['-O3', '-march=native', '-o', bin, src], { encoding: 'utf8' });
    if (r.error) return { why: `${cc} not runnable (${r.error.message})` };
    if (r.status !== 0) return { why: `${cc} failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}` };
  }
  const r = spawnSync(bin, [], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return { why: `peak_fma failed (${r.error?.message ?? r.stderr.trim()})` };
  const j = JSON.parse(r.stdout) as { fma_f32_gflops: number | null; scalar_f64_gflops: number; simd: string };
  return { peak: { fmaF32Gflops: j.fma_f32_gflops, scalarF64Gflops: j.scalar_f64_gflops, simd: j.simd } };
}
