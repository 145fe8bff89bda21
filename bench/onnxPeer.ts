/**
 * The onnxruntime peer: the bundled checkpoint exported to ONNX (scripts/onnx/export_marian.py, by
 * `npm run bench:setup`, into bench/.cache/onnx/) and run with onnxruntime-node, next to our engine running the
 * same algorithm on the same sentences (the golden ones): encode once (with the encoder–decoder keys/values),
 * then greedy decoding either WITH a self-attention key/value cache (one token per step) or WITHOUT one (the
 * whole prefix again every step). Both sides share the greedy driver below (Hugging Face's logits processors,
 * then argmax), so the timed difference is the network itself. Batch 1, no attention capture, no tokenizer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { GenerationSettings } from '../src/model/loading/config';
import type { MarianModel } from '../src/model/marian';
import { applyLogitsProcessors } from '../src/model/generation/logitsProcessors';
import { BENCH_DIR } from './paths';

export const ONNX_DIR = path.join(BENCH_DIR, '.cache', 'onnx');

// onnxruntime-node is installed by `npm run bench:setup` under bench/.cache/ort (not a project dependency: its
// install script downloads); its API types are those of onnxruntime-common.
type Ort = typeof import('onnxruntime-common');
type Session = import('onnxruntime-common').InferenceSession;
type Tensor = import('onnxruntime-common').Tensor;

interface Meta {
  decoder_layers: number;
  heads: number;
  head_dim: number;
  vocab_size: number;
  decoder_start_token_id: number;
  eos_token_id: number;
}

/** Greedy choice from one logits row, as generate() makes it (bad words, forced eos, then the first maximum). */
class Chooser {
  private readonly scores: Float64Array;
  constructor(private readonly gen: GenerationSettings, private readonly eos: number, vocab: number) {
    this.scores = new Float64Array(vocab);
  }
  next(logits: Float32Array, prefix: number[]): number {
    const s = this.scores;
    for (let i = 0; i < s.length; i++) s[i] = logits[i];
    applyLogitsProcessors(s, prefix, this.gen, this.eos);
    let best = 0;
    for (let i = 1; i < s.length; i++) if (s[i] > s[best]) best = i;
    return best;
  }
}

export class OursGreedy {
  private readonly chooser: Chooser;
  private readonly logits: Float32Array;
  constructor(private readonly model: MarianModel, private readonly gen: GenerationSettings) {
    this.chooser = new Chooser(gen, model.config.eosTokenId, model.config.vocabSize);
    this.logits = new Float32Array(model.config.vocabSize);
  }
  translate(ids: number[], cache: boolean): number[] {
    const m = this.model, cfg = m.config;
    const mem = m.crossMemory(m.encode(ids));
    const out = [cfg.decoderStartTokenId];
    const state = cache ? m.newDecoderState(this.gen.maxLength) : undefined;
    while (out.length < this.gen.maxLength) {
      if (state) m.decodeStep([out[out.length - 1]], [state], mem, this.logits);
      else m.decodePrefix(out, mem, this.logits);
      const next = this.chooser.next(this.logits, out);
      out.push(next);
      if (next === cfg.eosTokenId) break;
    }
    return out;
  }
}

export class OrtGreedy {
  private constructor(
    private readonly ort: Ort, private readonly meta: Meta, private readonly gen: GenerationSettings,
    private readonly encoder: Session, private readonly step: Session, private readonly full: Session,
    private readonly chooser: Chooser,
  ) {}

  static async create(ort: Ort, gen: GenerationSettings, threads: number): Promise<OrtGreedy> {
    const meta = JSON.parse(fs.readFileSync(path.join(ONNX_DIR, 'meta.json'), 'utf8')) as Meta;
    const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
    const open = (f: string) => ort.InferenceSession.create(path.join(ONNX_DIR, f), opts);
    const [encoder, step, full] = await Promise.all([open('encoder.onnx'), open('decoder_step.onnx'), open('decoder_full.onnx')]);
    return new OrtGreedy(ort, meta, gen, encoder, step, full, new Chooser(gen, meta.eos_token_id, meta.vocab_size));
  }

  private ints(values: number[], dims: number[]): Tensor {
    return new this.ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  }

  async translate(ids: number[], cache: boolean): Promise<number[]> {
    const { meta, gen } = this;
    const n = meta.decoder_layers;
    const enc = await this.encoder.run({ input_ids: this.ints(ids, [1, ids.length]) });
    const cross: Record<string, Tensor> = {};
    for (let l = 0; l < n; l++) for (const kv of ['k', 'v']) cross[`cross_${kv}_${l}`] = enc[`cross_${kv}_${l}`];
    let past: Record<string, Tensor> = {};
    const empty = new Float32Array(0);
    for (let l = 0; l < n; l++) for (const kv of ['k', 'v']) past[`past_${kv}_${l}`] = new this.ort.Tensor('float32', empty, [1, meta.heads, 0, meta.head_dim]);
    const out = [meta.decoder_start_token_id];
    while (out.length < gen.maxLength) {
      let logits: Float32Array;
      if (cache) {
        const r = await this.step.run({ input_ids: this.ints([out[out.length - 1]], [1, 1]), position: this.ints([out.length - 1], [1]), ...past, ...cross });
        logits = r.logits.data as Float32Array;
        past = {};
        for (let l = 0; l < n; l++) for (const kv of ['k', 'v']) past[`past_${kv}_${l}`] = r[`present_${kv}_${l}`];
      } else {
        const r = await this.full.run({ input_ids: this.ints(out, [1, out.length]), ...cross });
        logits = r.logits.data as Float32Array;
      }
      const next = this.chooser.next(logits, out);
      out.push(next);
      if (next === meta.eos_token_id) break;
    }
    return out;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.step.release(), this.full.release()]);
  }
}

/** onnxruntime-node, or why it cannot be used. */
export function loadOrt(): { ort?: Ort; why?: string } {
  try {
    const fromCache = createRequire(path.join(BENCH_DIR, '.cache', 'ort', 'package.json'));
    return { ort: fromCache('onnxruntime-node') as Ort };
  } catch (e) {
    return { why: `onnxruntime-node not loadable (${(e as Error).message.split('\n')[0]})` };
  }
}
