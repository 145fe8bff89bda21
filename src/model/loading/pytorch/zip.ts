/**
 * A minimal ZIP reader for PyTorch checkpoints: it reads the central directory (ZIP64 included) and hands out
 * stored (uncompressed) entries as views into the archive buffer — never copies. PyTorch writes every record
 * stored, so compressed or encrypted entries are refused rather than inflated.
 */
import { ModelFileError } from '../errors';

export interface ZipEntry {
  name: string;
  /** Offset of the entry's data in the archive. */
  dataOffset: number;
  size: number;
  crc32: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  constructor(readonly file: string, readonly buf: Uint8Array) {
    this.readCentralDirectory();
  }

  private fail(problem: string): never {
    throw new ModelFileError(this.file, problem);
  }

  /** The entry's bytes as a view into the archive buffer. */
  data(entry: ZipEntry): Uint8Array {
    return this.buf.subarray(entry.dataOffset, entry.dataOffset + entry.size);
  }

  private readCentralDirectory(): void {
    const buf = this.buf;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const len = buf.byteLength;
    if (len < EOCD_SIZE) this.fail(`file is ${len} bytes, too short to be a ZIP archive (truncated?)`);
    // The end-of-central-directory record sits in the last 22 + (up to 65535 comment) bytes.
    let eocd = -1;
    for (let p = len - EOCD_SIZE; p >= Math.max(0, len - EOCD_SIZE - MAX_COMMENT); p--) {
      if (dv.getUint32(p, true) === SIG_EOCD && p + EOCD_SIZE + dv.getUint16(p + 20, true) <= len) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) this.fail('the ZIP end-of-central-directory record is missing (file truncated or not a ZIP archive)');
    if (dv.getUint16(eocd + 4, true) !== 0 || dv.getUint16(eocd + 6, true) !== 0) this.fail('multi-part (spanned) ZIP archives are not supported');
    let count: number = dv.getUint16(eocd + 10, true);
    let cdSize: number = dv.getUint32(eocd + 12, true);
    let cdOffset: number = dv.getUint32(eocd + 16, true);
    const locator = eocd - 20;
    if (locator >= 0 && dv.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
      const z64 = this.u64(dv, locator + 8, 'ZIP64 end-of-central-directory offset');
      if (z64 + 56 > len || dv.getUint32(z64, true) !== SIG_ZIP64_EOCD) this.fail('the ZIP64 end-of-central-directory record is missing or damaged');
      count = this.u64(dv, z64 + 32, 'ZIP64 entry count');
      cdSize = this.u64(dv, z64 + 40, 'ZIP64 central directory size');
      cdOffset = this.u64(dv, z64 + 48, 'ZIP64 central directory offset');
    } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      this.fail('the ZIP64 end-of-central-directory locator is missing');
    }
    if (cdOffset + cdSize > len) this.fail(`the ZIP central directory (${cdSize} bytes at ${cdOffset}) lies outside the ${len}-byte file (truncated?)`);
    const dec = new TextDecoder('utf-8');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cdOffset + cdSize || dv.getUint32(p, true) !== SIG_CENTRAL) this.fail(`ZIP central directory entry ${i} is damaged`);
      const flags = dv.getUint16(p + 8, true);
      const method = dv.getUint16(p + 10, true);
      const crc32 = dv.getUint32(p + 16, true);
      let compSize: number = dv.getUint32(p + 20, true);
      let size: number = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localOffset: number = dv.getUint32(p + 42, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdOffset + cdSize) this.fail(`ZIP central directory entry ${i} is damaged`);
      const name = dec.decode(buf.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information: only the fields whose 32-bit slot is saturated are present, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = dv.getUint16(e, true), sz = dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const next = (what: string): number => {
            if (q + 8 > e + 4 + sz) this.fail(`ZIP64 extra field of "${name}" is too short`);
            const v = this.u64(dv, q, what);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next(`size of "${name}"`);
          if (compSize === 0xffffffff) compSize = next(`compressed size of "${name}"`);
          if (localOffset === 0xffffffff) localOffset = next(`offset of "${name}"`);
        }
        e += 4 + sz;
      }
      p = end;
      if (flags & 0x1) this.fail(`ZIP entry "${name}" is encrypted`);
      if (method !== 0) this.fail(`ZIP entry "${name}" is compressed (method ${method}); PyTorch checkpoints store records uncompressed — re-save it with torch.save`);
      if (compSize !== size) this.fail(`ZIP entry "${name}" is stored but its sizes disagree (${compSize} vs ${size})`);
      if (localOffset + 30 > len || dv.getUint32(localOffset, true) !== SIG_LOCAL) this.fail(`ZIP local header of "${name}" is missing (file truncated or damaged)`);
      const dataOffset = localOffset + 30 + dv.getUint16(localOffset + 26, true) + dv.getUint16(localOffset + 28, true);
      if (dataOffset + size > len) this.fail(`ZIP entry "${name}" (${size} bytes at ${dataOffset}) runs past the end of the ${len}-byte file (truncated?)`);
      this.entries.set(name, { name, dataOffset, size, crc32 });
    }
  }

  private u64(dv: DataView, at: number, what: string): number {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large`);
    return Number(v);
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) as ZIP records it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
