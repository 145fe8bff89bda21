/** Reads the safetensors format (8-byte little-endian header length, JSON header, raw little-endian tensor data). */
import { jsonSyntaxProblem } from '../../shared/safeText';
import { ModelFileError } from './errors';

export type DType = 'F32' | 'F16' | 'BF16';
const BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

export interface RawTensor {
  dtype: DType;
  shape: number[];
  /** The tensor's bytes (a view into the file buffer, not a copy). */
  bytes: Uint8Array;
}

/**
 * Header sizes above this are refused before any JSON parsing (real Marian headers are a few tens of KB; the
 * largest published checkpoints, thousands of tensors, about 1 MB).
 */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** Where one tensor's bytes lie, relative to the start of the data section. */
export interface TensorSpan {
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** Header length from the first 8 bytes, checked against the file size before anything else is read. */
export function safetensorsHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.byteLength < 8) throw new ModelFileError(file, `file is ${fileSize} bytes, too short for a safetensors header`);
  const headerLen = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
    throw new ModelFileError(file, `header length ${headerLen} does not fit in a file of ${fileSize} bytes (truncated or not safetensors)`);
  }
  return headerLen;
}

/** Parses and checks the JSON header: dtypes, shapes, offsets inside the `dataLen`-byte data section, no overlaps. */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, dataLen: number): Map<string, TensorSpan> {
  const fail = (problem: string): never => {
    throw new ModelFileError(file, problem);
  };
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8 JSON (malformed UTF-8)');
  }
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${jsonSyntaxProblem(e, text)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const tensors = new Map<string, TensorSpan>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    if (typeof info !== 'object' || info === null) fail(`tensor "${name}" has no description object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      fail(`tensor "${name}" data_offsets [${begin}, ${end}] point outside the ${dataLen}-byte data section`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const dt = dtype as DType;
    if (count * BYTES[dt] !== end - begin) {
      fail(`tensor "${name}" of shape [${(shape as number[]).join(', ')}] ${dt} needs ${count * BYTES[dt]} bytes but data_offsets span ${end - begin}`);
    }
    spans.push([begin, end, name]);
    tensors.set(name, { dtype: dt, shape: shape as number[], begin, end });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
  }
  return tensors;
}

/** A whole safetensors file already in memory: tensors are views into `buf`. */
export function parseSafetensors(file: string, buf: Uint8Array): Map<string, RawTensor> {
  const headerLen = safetensorsHeaderLength(file, buf, buf.byteLength);
  const dataStart = 8 + headerLen;
  const spans = parseSafetensorsHeader(file, buf.subarray(8, dataStart), buf.byteLength - dataStart);
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of spans) {
    tensors.set(name, { dtype: t.dtype, shape: t.shape, bytes: buf.subarray(dataStart + t.begin, dataStart + t.end) });
  }
  return tensors;
}

/**
 * Widens one tensor to float32. F32 data is viewed in place when 4-byte aligned (the loaders read files so that it
 * is), otherwise that one tensor is copied; F16/BF16 are converted into a new array (4 bytes per weight resident —
 * the forward pass and its matmul kernel work on Float32Array only). New arrays come from `alloc`: shared memory,
 * like the file buffers, so matmul helper threads can read them (the WebAssembly memory on the SIMD path).
 */
export function toFloat32(t: RawTensor, alloc: (bytes: number) => Uint8Array = (n) => new Uint8Array(new SharedArrayBuffer(n))): Float32Array {
  const n = t.bytes.byteLength / BYTES[t.dtype];
  if (t.dtype === 'F32') {
    if (t.bytes.byteOffset % 4 === 0) return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n);
    // unaligned: copy (Buffer#slice would be a view, so copy through a fresh Uint8Array)
    const copy = alloc(t.bytes.byteLength);
    copy.set(t.bytes);
    return new Float32Array(copy.buffer, copy.byteOffset, n);
  }
  const wide = alloc(n * 4);
  const out = new Float32Array(wide.buffer, wide.byteOffset, n);
  const b = t.bytes;
  if (t.dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) u32[i] = (b[2 * i] | (b[2 * i + 1] << 8)) << 16;
  } else {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[b[2 * i] | (b[2 * i + 1] << 8)];
  }
  return out;
}

let HALF_TABLE: Float32Array | undefined;

/** Every float16 bit pattern widened once (256 KB), so converting a tensor is a table lookup per weight. */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Where a safetensors file's data section starts (8 + header length), or undefined when the prefix is unreadable. */
export function safetensorsDataStart(prefix: Uint8Array): number | undefined {
  if (prefix.byteLength < 8) return undefined;
  const len = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  return len > BigInt(MAX_HEADER_BYTES) ? undefined : 8 + Number(len);
}
