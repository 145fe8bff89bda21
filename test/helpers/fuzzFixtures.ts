/** Smaller model files cut from the real fixtures' bytes, so fuzz runs stay fast while exercising real encodings. */

/** Reads a protobuf varint at `p`: [value, next position]. */
function varint(b: Uint8Array, p: number): [number, number] {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const c = b[p++];
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [v, p];
  }
}

export function encodeVarint(v: number): number[] {
  const out: number[] = [];
  for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
  out.push(v);
  return out;
}

/** The fields of one protobuf message body: [field number, start, end) of each record (tag included). */
export function protoFields(b: Uint8Array): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (let p = 0; p < b.length; ) {
    const start = p;
    const [tag, q] = varint(b, p);
    const wire = tag % 8;
    let end: number;
    if (wire === 0) end = varint(b, q)[1];
    else if (wire === 5) end = q + 4;
    else if (wire === 1) end = q + 8;
    else if (wire === 2) {
      const [len, r] = varint(b, q);
      end = r + len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.push([Math.floor(tag / 8), start, end]);
    p = end;
  }
  return out;
}

/**
 * A SentencePiece model made of the real file's records: its first `pieces` piece records, its trainer_spec and its
 * normalizer_spec (without the precompiled charsmap when `charsmap` is false, i.e. the identity normalizer).
 */
export function cutSentencePieceModel(spm: Uint8Array, opts: { pieces: number; charsmap: boolean }): Uint8Array {
  const fields = protoFields(spm);
  const parts: Uint8Array[] = [];
  for (const [, s, e] of fields.filter(([f]) => f === 1).slice(0, opts.pieces)) parts.push(spm.subarray(s, e));
  for (const [f, s, e] of fields) {
    if (f === 1) continue;
    if (f !== 3 || opts.charsmap) {
      parts.push(spm.subarray(s, e));
      continue;
    }
    // normalizer_spec without field 2 (precompiled_charsmap): re-encode the record with the new length
    const [, afterTag] = varint(spm, s);
    const [, bodyStart] = varint(spm, afterTag);
    const body = spm.subarray(bodyStart, e);
    const kept = protoFields(body).filter(([g]) => g !== 2).map(([, bs, be]) => body.subarray(bs, be));
    const keptLength = kept.reduce((n, k) => n + k.length, 0);
    parts.push(spm.subarray(s, afterTag), Uint8Array.from(encodeVarint(keptLength)), ...kept);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/**
 * The real model with its normalizer's precompiled charsmap replaced by `charsmap` (a hand-made blob: u32 trie
 * size, Darts units, replacement pool).
 */
export function withCharsmap(spm: Uint8Array, charsmap: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [f, s, e] of protoFields(spm)) {
    if (f !== 3) {
      parts.push(spm.subarray(s, e));
      continue;
    }
    const [, afterTag] = varint(spm, s);
    const [, bodyStart] = varint(spm, afterTag);
    const body = spm.subarray(bodyStart, e);
    const fields = protoFields(body).map(([g, bs, be]) =>
      g === 2 ? Uint8Array.from([0x12, ...encodeVarint(charsmap.length), ...charsmap]) : body.subarray(bs, be));
    const length = fields.reduce((n, x) => n + x.length, 0);
    parts.push(spm.subarray(s, afterTag), Uint8Array.from(encodeVarint(length)), ...fields);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A Darts double-array charsmap mapping the single byte `key` to `replacement` (no NUL terminator when `open`). */
export function oneRuleCharsmap(key: number, replacement: Uint8Array): Uint8Array {
  // root offset 0: node = key; that unit has label `key`, has-leaf bit and offset (key ^ leaf); the leaf unit holds
  // value 0 (the replacement's offset in the pool) with the leaf flag set.
  const leaf = key + 1;
  const units = new Uint32Array(leaf + 1);
  units[key] = ((key ^ leaf) << 10) | (1 << 8) | key;
  units[leaf] = 0x80000000;
  const trie = new Uint8Array(units.buffer);
  const out = new Uint8Array(4 + trie.length + replacement.length + 1);
  new DataView(out.buffer).setUint32(0, trie.length, true);
  out.set(trie, 4);
  out.set(replacement, 4 + trie.length);
  return out;
}
