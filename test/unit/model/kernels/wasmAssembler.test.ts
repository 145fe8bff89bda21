/**
 * The WebAssembly assembler (src/model/kernels/wasm/assembler.ts): LEB128 against the worked examples of the
 * DWARF/WebAssembly specifications, and small modules it builds run in the engine with the results their
 * instructions define.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Code, F64, I32, ModuleBuilder, V128, sleb, uleb } from '../../../../src/model/kernels/wasm/assembler';

/** Decodes unsigned LEB128 (independently of the encoder: byte by byte, low groups first). */
function decodeU(bytes: number[]): number {
  let n = 0, scale = 1;
  for (const b of bytes) {
    n += (b & 0x7f) * scale;
    scale *= 128;
  }
  return n;
}
function decodeS(bytes: number[]): number {
  const n = decodeU(bytes), bits = 7 * bytes.length;
  return bytes[bytes.length - 1] & 0x40 ? n - 2 ** bits : n;
}

describe('LEB128', () => {
  test('the specification examples', () => {
    assert.deepEqual(uleb(0), [0x00]);
    assert.deepEqual(uleb(127), [0x7f]);
    assert.deepEqual(uleb(128), [0x80, 0x01]);
    assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
    assert.deepEqual(sleb(-1), [0x7f]);
    assert.deepEqual(sleb(63), [0x3f]);
    assert.deepEqual(sleb(64), [0xc0, 0x00]);
    assert.deepEqual(sleb(-64), [0x40]);
    assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
    assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
    assert.throws(() => uleb(-1), RangeError);
  });

  test('round trip, every byte but the last with the continuation bit', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 }), (n) => {
      const b = uleb(n);
      return decodeU(b) === n && b.slice(0, -1).every((x) => x & 0x80) && !(b[b.length - 1] & 0x80);
    }));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => decodeS(sleb(n)) === n));
  });
});

describe('ModuleBuilder', () => {
  const memory = () => new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });

  test('a scalar function: (x, y) → x·3 − y, exported by name', () => {
    const m = new ModuleBuilder({ initial: 1, maximum: 4, shared: true });
    const f = new Code([I32, I32], [I32]);
    f.get(0).i32Const(3).i32Mul().get(1).i32Sub();
    m.add(f, 'f');
    const bytes = m.encode();
    assert.ok(WebAssembly.validate(bytes));
    const { f: run } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory() } }).exports as { f: (x: number, y: number) => number };
    assert.equal(run(7, 5), 16);
    assert.equal(run(-2, 100), -106);
  });

  test('loops, locals, calls and memory: a sum of float32 widened to doubles, then SIMD lane pairing', () => {
    const m = new ModuleBuilder({ initial: 1, maximum: 4, shared: true });
    // sum(ptr, n): Σ double(f32[ptr + 4i]) for i < n, in order
    const sum = new Code([I32, I32], [F64]);
    const s = sum.local(F64), i = sum.local(I32);
    sum.block().loop();
    sum.get(i).get(1).i32GeU().brIf(1);
    sum.get(s).get(0).get(i).i32Const(4).i32Mul().i32Add().f32Load().f64PromoteF32().f64Add().set(s);
    sum.get(i).i32Const(1).i32Add().set(i).br(0);
    sum.end().end();
    sum.get(s);
    const sumIndex = m.add(sum, 'sum');
    // twice(ptr, n) = sum(ptr, n) + sum(ptr, n), through `call`
    const twice = new Code([I32, I32], [F64]);
    twice.get(0).get(1).call(sumIndex).get(0).get(1).call(sumIndex).f64Add();
    m.add(twice, 'twice');
    // pair(p, q, out): out = (f64 lane 0 of p's pair, lane 0 of q's pair) — the exact kernel's column pairing
    const pair = new Code([I32, I32, I32]);
    const lo = pair.local(V128), hi = pair.local(V128);
    pair.get(0).v128Load64Zero().f64x2PromoteLow().set(lo);
    pair.get(1).v128Load64Zero().f64x2PromoteLow().set(hi);
    pair.get(2).get(lo).get(hi).f64x2LowLanes().v128Store();
    pair.get(2).get(lo).get(hi).f64x2HighLanes().v128Store(16);
    m.add(pair, 'pair');
    const mem = memory();
    const ex = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory: mem } }).exports as Record<string, (...a: number[]) => number>;
    const f32 = new Float32Array(mem.buffer, 64, 4);
    f32.set([0.1, 0.2, 0.3, 0.4]);
    let expect = 0;
    for (const x of f32) expect += x;
    assert.equal(ex.sum(64, 4), expect);
    assert.equal(ex.twice(64, 4), expect + expect);
    ex.pair(64, 72, 128);
    assert.deepEqual([...new Float64Array(mem.buffer, 128, 4)], [f32[0], f32[2], f32[1], f32[3]]);
  });

  test('a wrong program is refused by the engine, not run', () => {
    const m = new ModuleBuilder({ initial: 1, maximum: 4, shared: true });
    const f = new Code([], [I32]);
    f.i32Add(); // nothing on the stack
    m.add(f, 'f');
    assert.equal(WebAssembly.validate(m.encode()), false);
  });
});
