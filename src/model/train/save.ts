/**
 * Saves a trained model as a Hugging Face Marian folder: config.json, generation_config.json, model.safetensors
 * (every trainable tensor under its Hugging Face name, float32, plus a zero final_logits_bias) and the task's
 * tokenizer files. "Choose model folder…", the CLI's --model and transformers' MarianMTModel.from_pretrained read it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MarianParams } from './params';
import type { Task } from './tasks';

/** A folder that cannot be created or written: the message names it and says why. */
export class SaveError extends Error {
  constructor(readonly folder: string, reason: string) {
    super(`cannot save the model into ${folder}: ${reason}`);
    this.name = 'SaveError';
  }
}

/** The safetensors bytes: 8-byte little-endian header length, JSON header (space-padded to 8 bytes), raw data. */
export function safetensorsBytes(tensors: Array<{ name: string; shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    // little-endian float32, as every platform Node runs on stores it
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function saveMarianFolder(folder: string, task: Task, params: MarianParams): string[] {
  const dir = path.resolve(folder);
  const cfg = task.config;
  const files: Record<string, Uint8Array | string> = {
    'config.json': JSON.stringify(task.hfConfig, null, 2),
    'generation_config.json': JSON.stringify({
      bad_words_ids: [[cfg.padTokenId]], bos_token_id: cfg.eosTokenId, decoder_start_token_id: cfg.decoderStartTokenId,
      eos_token_id: cfg.eosTokenId, forced_eos_token_id: cfg.eosTokenId, max_length: cfg.maxPositions, num_beams: 1,
      pad_token_id: cfg.padTokenId,
    }, null, 2),
    'model.safetensors': safetensorsBytes([
      ...params.list.map((p) => ({ name: p.name, shape: p.shape, data: p.value })),
      { name: 'final_logits_bias', shape: [1, cfg.vocabSize], data: new Float32Array(cfg.vocabSize) },
    ]),
    ...task.tokenizerFiles(),
  };
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new SaveError(dir, describe(e));
  }
  for (const [name, data] of Object.entries(files)) {
    try {
      fs.writeFileSync(path.join(dir, name), data);
    } catch (e) {
      throw new SaveError(dir, `${name}: ${describe(e)}`);
    }
  }
  return Object.keys(files);
}

function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'permission denied (the folder is not writable)';
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way (the path is not a folder)';
  if (code === 'ENOSPC') return 'the disk is full';
  return code ?? (e as Error).message;
}
