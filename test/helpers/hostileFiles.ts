/**
 * Builds pathological-but-well-formed model folders on the fly (issue 18): special files in place of model files,
 * sparse files, oversized vocabularies and pickles, non-finite weights, long pieces and expanding charsmaps. Used by
 * the *.hostile tests and by scripts/hostile-measure.ts, which runs each case in its own process and reports the
 * outcome, time and peak memory.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSafetensors } from '../../src/model/loading/safetensors';
import { encodeVarint, oneRuleCharsmap, withCharsmap } from './fuzzFixtures';
import { TINY_MODEL } from './golden';
import { buildZip, encodeSafetensors, pickle, readZipEntries, type TensorSpec } from './modelFiles';

export const TINY_FILES = ['config.json', 'model.safetensors', 'source.spm', 'target.spm', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json'];

/** A copy of the tiny model (without its golden files) in `root/name`. */
export function tinyCopy(root: string, name: string, from = TINY_MODEL): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(from)) if (!f.startsWith('golden') && !f.endsWith('.md')) fs.copyFileSync(path.join(from, f), path.join(dir, f));
  return dir;
}

/** Replaces `file` in `dir` by a symlink to `target`. */
export function symlinkIn(dir: string, file: string, target: string): void {
  fs.rmSync(path.join(dir, file), { force: true });
  fs.symlinkSync(target, path.join(dir, file));
}

/** Replaces `file` in `dir` by a FIFO (mkfifo). */
export function fifoIn(dir: string, file: string): void {
  fs.rmSync(path.join(dir, file), { force: true });
  execFileSync('mkfifo', [path.join(dir, file)]);
}

/** A sparse file: `head` written at 0, then extended to `size` bytes with ftruncate (holes read as zeros). */
export function sparseFile(file: string, head: Uint8Array, size: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    fs.ftruncateSync(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** The tiny model's tensors as writable specs (copies). */
export function tinyTensors(from = TINY_MODEL): TensorSpec[] {
  const buf = new Uint8Array(fs.readFileSync(path.join(from, 'model.safetensors')));
  return [...parseSafetensors('model.safetensors', buf)].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.bytes.slice() }));
}

/** Rewrites model.safetensors of `dir` after `edit` changed float32 values of the named tensor. */
export function editTensor(dir: string, name: string, edit: (values: Float32Array) => void): void {
  const tensors = tinyTensors(dir);
  const t = tensors.find((x) => x.name === name || x.name === `model.${name}`);
  if (!t) throw new Error(`no tensor ${name}`);
  const bytes = t.data as Uint8Array;
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  edit(values);
  fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
}

/** A vocab.json of `n` entries ("p0": 0, …) written in one pass. */
export function hugeVocab(file: string, n: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    const specials = '{"</s>": 0, "<unk>": 1, "<pad>": 2';
    fs.writeSync(fd, specials);
    const batch = 100_000;
    for (let i = 3; i < n; i += batch) {
      let s = '';
      for (let j = i; j < Math.min(n, i + batch); j++) s += `, "p${j}": ${j}`;
      fs.writeSync(fd, s);
    }
    fs.writeSync(fd, '}');
  } finally {
    fs.closeSync(fd);
  }
}

/** A pytorch_model.bin whose data.pkl is `pkl` (a real checkpoint's other records kept). */
export function withPickle(binFile: string, pkl: Uint8Array, out: string): void {
  const entries = readZipEntries(fs.readFileSync(binFile)).map((e) => (e.name.endsWith('/data.pkl') ? { ...e, data: pkl, crc: undefined } : e));
  fs.writeFileSync(out, buildZip(entries));
}

/** A pickle of one opcode repeated `n` times after PROTO 2 (then STOP). */
export function opcodeBomb(op: number, n: number): Buffer {
  const b = Buffer.alloc(n + 3, op);
  b[0] = 0x80;
  b[1] = 0x02;
  b[n + 2] = 0x2e;
  return b;
}

/** `spm` with one more piece record appended (bytes, score, type: 1 normal, 4 user-defined). */
export function withExtraPiece(spm: Uint8Array, piece: Uint8Array, type: number, score = -1): Uint8Array {
  const scoreBytes = new Uint8Array(new Float32Array([score]).buffer);
  const body = Buffer.concat([
    Buffer.from([0x0a, ...encodeVarint(piece.length)]), piece,
    Buffer.from([0x15]), scoreBytes,
    Buffer.from([0x18, type]),
  ]);
  return new Uint8Array(Buffer.concat([spm, Buffer.from([0x0a, ...encodeVarint(body.length)]), body]));
}

export { oneRuleCharsmap, withCharsmap, pickle };
