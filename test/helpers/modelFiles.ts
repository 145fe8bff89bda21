/**
 * Writers for model weight files, used by tests and the benchmark to build checkpoints (and broken ones):
 * safetensors, stored ZIP archives laid out like PyTorch's, and hand-assembled pickle bytes.
 */
import * as fs from 'node:fs';
import { crc32 } from '../../src/model/loading/pytorch/zip';
import type { DType } from '../../src/model/loading/safetensors';

export interface TensorSpec {
  name: string;
  dtype: DType;
  shape: number[];
  /** Little-endian bytes (a Float32Array is written as its bytes). */
  data: Uint8Array | Float32Array;
}

const asBytes = (d: Uint8Array | Float32Array): Uint8Array => (d instanceof Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));

function safetensorsHeader(tensors: Array<Omit<TensorSpec, 'data'> & { byteLength: number }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.byteLength] };
    off += t.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // pad so the data section starts 8-byte aligned
  const out = Buffer.alloc(8 + json.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'utf8');
  return out;
}

/** A safetensors file in memory. */
export function encodeSafetensors(tensors: TensorSpec[]): Buffer {
  const head = safetensorsHeader(tensors.map((t) => ({ ...t, byteLength: asBytes(t.data).byteLength })));
  return Buffer.concat([head, ...tensors.map((t) => asBytes(t.data))]);
}

/**
 * Streams a safetensors file to disk: `fill(i)` produces tensor i's bytes only when it is written, so a large
 * model never sits in memory twice. Returns the file size.
 */
export function writeSafetensors(file: string, tensors: Array<Omit<TensorSpec, 'data'>>, fill: (i: number) => Uint8Array | Float32Array): number {
  const sizes = tensors.map((t) => t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2));
  const head = safetensorsHeader(tensors.map((t, i) => ({ ...t, byteLength: sizes[i] })));
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    let total = head.length;
    tensors.forEach((t, i) => {
      const bytes = asBytes(fill(i));
      if (bytes.byteLength !== sizes[i]) throw new Error(`tensor ${t.name}: ${bytes.byteLength} bytes, expected ${sizes[i]}`);
      fs.writeSync(fd, bytes);
      total += bytes.byteLength;
    });
    return total;
  } finally {
    fs.closeSync(fd);
  }
}

export interface ZipSpec {
  name: string;
  data: Uint8Array;
  /** Compression method written in the headers (the data is stored as given either way). */
  method?: number;
  flags?: number;
  /** A wrong CRC to write instead of the real one. */
  crc?: number;
}

/**
 * A ZIP archive of stored entries, each data start padded to `align` bytes with an extra field as PyTorch's writer
 * does (align 1 = no padding). `zip64` writes ZIP64 extra fields and end records even though the sizes are small.
 */
export function buildZip(entries: ZipSpec[], opts: { align?: number; zip64?: boolean } = {}): Buffer {
  const align = opts.align ?? 64;
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = e.crc ?? crc32(e.data);
    const z64 = opts.zip64 ? 20 : 0; // id, size, uncompressed(8), compressed(8)
    let pad = 0;
    if (align > 1) {
      const dataStart = off + 30 + name.length + z64;
      pad = (align - ((dataStart + 4) % align)) % align; // + 4 for the padding field's own header
      pad += 4;
    }
    const extra = Buffer.alloc(z64 + pad);
    if (opts.zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(e.data.length), 4);
      extra.writeBigUInt64LE(BigInt(e.data.length), 12);
    }
    if (pad) {
      extra.writeUInt16LE(0x5046, z64); // "FB", the id PyTorch uses for its padding
      extra.writeUInt16LE(pad - 4, z64 + 2);
    }
    const size32 = opts.zip64 ? 0xffffffff : e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    local.writeUInt16LE(e.flags ?? 0, 6);
    local.writeUInt16LE(e.method ?? 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(size32, 18);
    local.writeUInt32LE(size32, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    parts.push(local, name, extra, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength));
    const cextra = Buffer.alloc(opts.zip64 ? 28 : 0);
    if (opts.zip64) {
      cextra.writeUInt16LE(0x0001, 0);
      cextra.writeUInt16LE(24, 2);
      cextra.writeBigUInt64LE(BigInt(e.data.length), 4);
      cextra.writeBigUInt64LE(BigInt(e.data.length), 12);
      cextra.writeBigUInt64LE(BigInt(off), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(opts.zip64 ? 45 : 20, 4);
    c.writeUInt16LE(opts.zip64 ? 45 : 20, 6);
    c.writeUInt16LE(e.flags ?? 0, 8);
    c.writeUInt16LE(e.method ?? 0, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(size32, 20);
    c.writeUInt32LE(size32, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(cextra.length, 30);
    c.writeUInt32LE(opts.zip64 ? 0xffffffff : off, 42);
    central.push(c, name, cextra);
    off += 30 + name.length + extra.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [cd];
  if (opts.zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(off), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(off + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : off, 16);
  tail.push(eocd);
  return Buffer.concat([...parts, ...tail]);
}

/** The entries of a ZIP archive written by buildZip or PyTorch (stored entries only), for rebuilding variants. */
export function readZipEntries(buf: Buffer): ZipSpec[] {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: ZipSpec[] = [];
  for (let i = 0; i < count; i++) {
    const size = buf.readUInt32LE(p + 24);
    const n = buf.readUInt16LE(p + 28), x = buf.readUInt16LE(p + 30), m = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + n);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    out.push({ name, data: buf.subarray(start, start + size) });
    p += 46 + n + x + m;
  }
  return out;
}

/** Hand-assembled pickle bytes (protocol 2 opcodes). */
export const pickle = {
  proto: () => Buffer.from([0x80, 0x02]),
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
  str: (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58;
    h.writeUInt32LE(b.length, 1);
    return Buffer.concat([h, b]);
  },
  int: (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  },
  mark: () => Buffer.from([0x28]),
  tuple: () => Buffer.from([0x74]),
  emptyTuple: () => Buffer.from([0x29]),
  reduce: () => Buffer.from([0x52]),
  binpersid: () => Buffer.from([0x51]),
  setitems: () => Buffer.from([0x75]),
  newfalse: () => Buffer.from([0x89]),
  stop: () => Buffer.from([0x2e]),
  /** `(a, b, ...)` of ints */
  ints: (xs: number[]) => Buffer.concat([Buffer.from([0x28]), ...xs.map((x) => pickle.int(x)), Buffer.from([0x74])]),
  /** `OrderedDict()` on the stack */
  orderedDict: () => Buffer.concat([pickle.global('collections', 'OrderedDict'), pickle.emptyTuple(), pickle.reduce()]),
  /** `_rebuild_tensor_v2(storage(key), offset, shape, stride, False, OrderedDict())` on the stack */
  tensor: (storageType: string, key: string, numel: number, offset: number, shape: number[], stride: number[]) =>
    Buffer.concat([
      pickle.global('torch._utils', '_rebuild_tensor_v2'),
      pickle.mark(),
      pickle.mark(), pickle.str('storage'), pickle.global('torch', storageType), pickle.str(key), pickle.str('cpu'), pickle.int(numel), pickle.tuple(),
      pickle.binpersid(),
      pickle.int(offset), pickle.ints(shape), pickle.ints(stride), pickle.newfalse(), pickle.orderedDict(),
      pickle.tuple(),
      pickle.reduce(),
    ]),
  /** A whole state dict pickle from (name, tensor-bytes) pairs. */
  stateDict: (items: Array<[string, Buffer]>) =>
    Buffer.concat([pickle.proto(), pickle.orderedDict(), pickle.mark(), ...items.flatMap(([k, v]) => [pickle.str(k), v]), pickle.setitems(), pickle.stop()]),
};
