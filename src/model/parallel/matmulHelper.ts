/**
 * A matmul pool helper thread (bundled to dist/matmulHelper.js): waits for a job in its control slot, multiplies
 * its column range of the shared scratch operand by a registered weight tensor into the shared output scratch,
 * and signals DONE. It never returns to its event loop while the pool lives, so arrays arrive through a
 * MessagePort it reads synchronously, and only when a job names something it has not seen yet.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { matmulTransBColumns } from '../matmul';
import {
  B_ID, BIAS_ID, DONE, FAILED, J0, J1, K, M, N, NO_BIAS, POSTED, QUIT, SCRATCH_GEN, SLOT, STATE,
  type HelperData, type PoolMessage,
} from './poolProtocol';

const data = workerData as HelperData;
const ctl = new Int32Array(data.control);
const base = data.slot * SLOT;
const tensors = new Map<number, Float32Array>();
let scratch: { gen: number; a: Float32Array; out: Float32Array } | undefined;

/** Applies every message waiting on the port. */
function drain(): void {
  for (let m = receiveMessageOnPort(data.port); m; m = receiveMessageOnPort(data.port)) {
    const msg = m.message as PoolMessage;
    if (msg.kind === 'tensor') tensors.set(msg.id, msg.data);
    else if (msg.kind === 'scratch') scratch = msg;
    else tensors.clear();
  }
}

function runJob(): void {
  const bId = ctl[base + B_ID], biasId = ctl[base + BIAS_ID], gen = ctl[base + SCRATCH_GEN];
  if (!tensors.has(bId) || (biasId !== NO_BIAS && !tensors.has(biasId)) || scratch?.gen !== gen) drain();
  const b = tensors.get(bId), bias = biasId === NO_BIAS ? undefined : tensors.get(biasId);
  if (!b || (biasId !== NO_BIAS && !bias) || !scratch || scratch.gen !== gen) throw new Error('job names an array this helper was never given');
  const rows = ctl[base + M], n = ctl[base + N];
  matmulTransBColumns(scratch.a, rows, ctl[base + K], b, n, scratch.out, bias, 0, 0, ctl[base + J0], ctl[base + J1]);
}

for (;;) {
  // Poll for a while (the next product of a decoding step follows within microseconds), then sleep.
  let s = Atomics.load(ctl, base + STATE);
  const until = performance.now() + data.spinMs;
  while (s !== POSTED && s !== QUIT) {
    if (performance.now() > until) Atomics.wait(ctl, base + STATE, s);
    s = Atomics.load(ctl, base + STATE);
  }
  if (s === QUIT) break;
  if (ctl[base + M] === 0) drain(); // a job without work: just take the messages (e.g. 'clear')
  else {
    try {
      runJob();
    } catch {
      Atomics.store(ctl, base + STATE, FAILED);
      Atomics.notify(ctl, base + STATE);
      continue;
    }
  }
  Atomics.store(ctl, base + STATE, DONE);
  Atomics.notify(ctl, base + STATE);
}
