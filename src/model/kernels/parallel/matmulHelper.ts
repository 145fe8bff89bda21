/**
 * A matmul pool helper thread (bundled to dist/matmulHelper.js): waits for a job, claims output-column chunks of
 * the shared scratch operand times a registered weight tensor until none is left, writing them to the shared output
 * scratch, and signals DONE. It never returns to its event loop while the pool lives, so arrays arrive through a
 * MessagePort it reads synchronously, and only when a job names something it has not seen yet.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { matmulTransBColumns } from '../matmul';
import { productAt, type MatmulExports } from '../wasm/wasmMatmul';
import * as protocol from './poolProtocol';

// module-local copies: imported bindings can compile to getter calls, too slow for the polling loop
const { DONE, FAILED, NO_BIAS, POSTED, QUIT, WORKING } = protocol;
const { JOB_B, JOB_BIAS, JOB_CHUNK, JOB_CHUNKS, JOB_K, JOB_M, JOB_N, JOB_NEXT, JOB_SCRATCH, JOB_SEQ } = protocol;
const { JOB_A_AT, JOB_B_AT, JOB_BIAS_AT, JOB_FLOAT32, JOB_IL_AT, JOB_KIND, JOB_MEM, JOB_OUT_AT, JOB_PACK, JOB_PACK_STRIDE, KIND_SIMD } = protocol;

const data = workerData as protocol.HelperData;
const ctl = new Int32Array(data.control);
const me = protocol.stateIndex(data.index);
const tensors = new Map<number, Float32Array>();
/** The SIMD kernels instantiated over each WebAssembly memory the pool named (same memory as the caller's). */
const memories = new Map<number, MatmulExports>();
let scratch: { gen: number; a: Float32Array; out: Float32Array; owner: Int32Array } | undefined;

/** Applies every message waiting on the port. */
function drain(): void {
  for (let m = receiveMessageOnPort(data.port); m; m = receiveMessageOnPort(data.port)) {
    const msg = m.message as protocol.PoolMessage;
    if (msg.kind === 'tensor') tensors.set(msg.id, msg.data);
    else if (msg.kind === 'scratch') scratch = msg;
    else if (msg.kind === 'memory') memories.set(msg.id, new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports as unknown as MatmulExports);
    else {
      tensors.clear();
      memories.clear();
    }
  }
}

/** A SIMD job: every operand is in the WebAssembly memory, by byte address. */
function runSimdJob(): void {
  if (!memories.has(ctl[JOB_MEM])) drain();
  const ex = memories.get(ctl[JOB_MEM]);
  if (!ex) throw new Error('job names a memory this helper was never given');
  const rows = ctl[JOB_M], inner = ctl[JOB_K], cols = ctl[JOB_N], chunk = ctl[JOB_CHUNK], chunks = ctl[JOB_CHUNKS], seq = ctl[JOB_SEQ];
  const a = ctl[JOB_A_AT] >>> 0, b = ctl[JOB_B_AT] >>> 0, bias = ctl[JOB_BIAS_AT] >>> 0, out = ctl[JOB_OUT_AT] >>> 0;
  const il = ctl[JOB_IL_AT] >>> 0, float32 = ctl[JOB_FLOAT32] === 1;
  const pack = (ctl[JOB_PACK] >>> 0) + data.index * (ctl[JOB_PACK_STRIDE] >>> 0);
  for (let c = Atomics.add(ctl, JOB_NEXT, 1); c < chunks; c = Atomics.add(ctl, JOB_NEXT, 1)) {
    productAt(ex, a, rows, inner, b, cols, out, bias, c * chunk, Math.min(cols, (c + 1) * chunk), pack, il, float32);
    scratch!.owner[c] = seq;
  }
}

function runJob(): void {
  if (ctl[JOB_KIND] === KIND_SIMD) {
    if (scratch?.gen !== ctl[JOB_SCRATCH]) drain();
    if (!scratch || scratch.gen !== ctl[JOB_SCRATCH]) throw new Error('job names an array this helper was never given');
    runSimdJob();
    return;
  }
  const bId = ctl[JOB_B], biasId = ctl[JOB_BIAS], gen = ctl[JOB_SCRATCH];
  if (!tensors.has(bId) || (biasId !== NO_BIAS && !tensors.has(biasId)) || scratch?.gen !== gen) drain();
  const b = tensors.get(bId), bias = biasId === NO_BIAS ? undefined : tensors.get(biasId);
  if (!b || (biasId !== NO_BIAS && !bias) || !scratch || scratch.gen !== gen) throw new Error('job names an array this helper was never given');
  const rows = ctl[JOB_M], inner = ctl[JOB_K], cols = ctl[JOB_N], chunk = ctl[JOB_CHUNK], chunks = ctl[JOB_CHUNKS], seq = ctl[JOB_SEQ];
  for (let c = Atomics.add(ctl, JOB_NEXT, 1); c < chunks; c = Atomics.add(ctl, JOB_NEXT, 1)) {
    matmulTransBColumns(scratch.a, rows, inner, b, cols, scratch.out, bias, 0, 0, c * chunk, Math.min(cols, (c + 1) * chunk));
    scratch.owner[c] = seq; // published to the caller by the DONE store below
  }
}

for (;;) {
  // Poll for a while (the next product of a decoding step follows within microseconds), then sleep.
  let s = Atomics.load(ctl, me);
  const until = performance.now() + data.spinMs;
  while (s !== POSTED && s !== QUIT) {
    if (performance.now() > until) Atomics.wait(ctl, me, s);
    s = Atomics.load(ctl, me);
  }
  if (s === QUIT) break;
  if (Atomics.compareExchange(ctl, me, POSTED, WORKING) !== POSTED) continue; // withdrawn: the caller finished alone
  let end = DONE;
  try {
    if (ctl[JOB_M] === 0) drain(); // a job without work: just take the messages (e.g. 'clear')
    else runJob();
  } catch {
    end = FAILED;
  }
  Atomics.store(ctl, me, end);
  Atomics.notify(ctl, me);
}
