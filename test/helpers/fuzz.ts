/**
 * Mutation fuzzing of the parsers that read user-supplied model files. fast-check generates lists of mutations
 * (bit flips, byte/integer overwrites, insertions, deletions, truncations, splices of the file into itself, JSON
 * value swaps); they are applied to the REAL fixture files, and each run must end with a valid result or a
 * ModelFileError naming the file — never another exception, never over the per-run time or memory bound.
 *
 * Reproducible by default (fixed seed); explore with `FUZZ_SEED=<n>` and `FUZZ_RUNS=<runs per property>`.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ModelFileError } from '../../src/model/loading/errors';

export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20251123;

/**
 * Runs for one property: `FUZZ_RUNS` when set, else the default, sized for the unit run on a 2-core machine (the
 * fixed seed makes it a regression check; a deeper search is `FUZZ_RUNS=5000 node scripts/test-unit.mjs fuzz`).
 */
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : defaultRuns;
}

/** Suite timeout: generous for the default run counts, none when exploring with FUZZ_RUNS. */
export const FUZZ_TIMEOUT_MS = process.env.FUZZ_RUNS ? Infinity : 120_000;

/**
 * Per-run bounds: wall time and growth of V8 heap + external memory (ArrayBuffers) across the run. The time bound
 * catches runaway work (a declared length of 10⁹ looped over), not slowness: runs take well under a second, a loaded
 * 2-core CI machine once took 3 s over a 2 s bound, so it is 30 s.
 */
export const RUN_TIME_LIMIT_MS = 30_000;
export const RUN_MEMORY_LIMIT_BYTES = 200 * 1024 * 1024;

// ---- byte-level mutations -------------------------------------------------------------------------------

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'int'; at: number; width: 1 | 2 | 4 | 8; value: bigint }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'splice'; at: number; from: number; length: number; overwrite: boolean }
  | { kind: 'truncate'; at: number };

/** A region of the original file [start, end) and how often positions fall in it. */
export interface HotRegion {
  start: number;
  end: number;
  weight: number;
}

/** Bytes that mean something to the formats involved (JSON punctuation, digits, varint/opcode edges). */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x08, 0x0a, 0x10, 0x1f, 0x20, 0x22, 0x2c, 0x2d, 0x2e, 0x30, 0x31, 0x39, 0x3a, 0x45, 0x5b, 0x5c, 0x5d, 0x65, 0x7b, 0x7d, 0x7f, 0x80, 0x81, 0xc0, 0xe2, 0xef, 0xfe, 0xff];

function interestingInts(fileLength: number): bigint[] {
  const L = BigInt(fileLength);
  return [0n, 1n, 2n, 7n, 8n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n,
    (1n << 53n) - 1n, 1n << 53n, 1n << 63n, (1n << 64n) - 1n, L - 1n, L, L + 1n, L * 2n, 4n << 30n /* 4 GiB */];
}

/** Positions: mostly inside the hot regions, sometimes anywhere in the file. */
export function positionArb(fileLength: number, hot: HotRegion[] = []): fc.Arbitrary<number> {
  const whole = { arbitrary: fc.integer({ min: 0, max: Math.max(0, fileLength - 1) }), weight: 1 };
  return fc.oneof(...hot.map((r) => ({ arbitrary: fc.integer({ min: r.start, max: Math.max(r.start, r.end - 1) }), weight: r.weight })), whole);
}

export function mutationArb(fileLength: number, hot: HotRegion[] = []): fc.Arbitrary<Mutation> {
  const at = positionArb(fileLength, hot);
  const byte = fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.integer({ min: 0, max: 255 }));
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('byte' as const), at, value: byte }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('int' as const),
        at,
        width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
        value: fc.oneof(fc.constantFrom(...interestingInts(fileLength)), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.array(byte, { minLength: 1, maxLength: 16 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 64 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('splice' as const),
        at,
        from: positionArb(fileLength, hot),
        length: fc.integer({ min: 1, max: 256 }),
        overwrite: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
  );
}

export function mutationsArb(fileLength: number, hot: HotRegion[] = [], maxOps = 4): fc.Arbitrary<Mutation[]> {
  return fc.array(mutationArb(fileLength, hot), { minLength: 1, maxLength: maxOps });
}

/** Applies mutations in order (positions are clamped to the current length). The base is never modified. */
export function applyMutations(base: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let buf: Uint8Array = base;
  let owned = false;
  const own = (): void => {
    if (!owned) {
      buf = new Uint8Array(buf); // a copy by memcpy (Buffer#slice would be a view, Uint8Array.from iterates)
      owned = true;
    }
  };
  for (const m of mutations) {
    const len = buf.length;
    const at = len === 0 ? 0 : Math.min(m.at, len);
    switch (m.kind) {
      case 'flip':
        if (at < len) {
          own();
          buf[at] ^= 1 << m.bit;
        }
        break;
      case 'byte':
        if (at < len) {
          own();
          buf[at] = m.value;
        }
        break;
      case 'int': {
        own();
        let v = m.value;
        for (let i = 0; i < m.width && at + i < len; i++, v >>= 8n) buf[at + i] = Number(v & 0xffn);
        break;
      }
      case 'insert':
        buf = concat(buf.subarray(0, at), Uint8Array.from(m.bytes), buf.subarray(at));
        owned = true;
        break;
      case 'delete':
        buf = concat(buf.subarray(0, at), buf.subarray(Math.min(len, at + m.length)));
        owned = true;
        break;
      case 'splice': {
        const from = Math.min(m.from, len);
        const chunk = Uint8Array.from(buf.subarray(from, Math.min(len, from + m.length)));
        if (m.overwrite) {
          own();
          buf.set(chunk.subarray(0, Math.max(0, len - at)), at);
        } else {
          buf = concat(buf.subarray(0, at), chunk, buf.subarray(at));
          owned = true;
        }
        break;
      }
      case 'truncate':
        buf = buf.subarray(0, at); // a view: no copy
        break;
    }
  }
  return buf;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** JSON for failure messages (bigints as numbers), cut to `max` characters. */
export function show(value: unknown, max = 400): string {
  const s = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** A short, readable description of a mutation list (for failure messages). */
export function describeMutations(mutations: readonly Mutation[]): string {
  return mutations
    .map((m) => {
      switch (m.kind) {
        case 'flip': return `flip@${m.at}.${m.bit}`;
        case 'byte': return `byte@${m.at}=0x${m.value.toString(16)}`;
        case 'int': return `u${m.width * 8}@${m.at}=${m.value}`;
        case 'insert': return `insert@${m.at}[${m.bytes.length}]`;
        case 'delete': return `delete@${m.at}+${m.length}`;
        case 'splice': return `${m.overwrite ? 'overwrite' : 'splice'}@${m.at}<-${m.from}+${m.length}`;
        case 'truncate': return `truncate@${m.at}`;
      }
    })
    .join(', ');
}

// ---- JSON-level mutations ---------------------------------------------------------------------------------

/** Navigates by index at each level (object keys in order, array items), wrapping around; stops at a leaf. */
export type JsonMutation =
  | { kind: 'replace'; path: number[]; value: unknown }
  | { kind: 'delete'; path: number[] }
  | { kind: 'swap'; path: number[]; other: number[] }
  | { kind: 'rename'; path: number[]; name: string }
  | { kind: 'duplicate'; path: number[] };

/** Values that break assumptions: wrong types, edge numbers, huge sizes, deep nesting, long strings. */
export function hostileJsonValueArb(extra: unknown[] = []): fc.Arbitrary<unknown> {
  const edgeNumbers = [0, -0, -1, 1, 2, 0.5, 1.5, -1.5, 1e-300, 1e300, 1.7976931348623157e308, -1.7976931348623157e308, 2 ** 31, 2 ** 32, 2 ** 32 + 1,
    2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 4 * 2 ** 30, 1e12, 65535, 65536, 7999, 8000, 255, 256, 512, 1024];
  const deep = (n: number): unknown => {
    let v: unknown = 0;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...edgeNumbers) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(null, true, false, '', '0', 'NaN', 'Infinity', [], {}, [[]], [null], { '': 0 }, '__proto__', JSON.parse('{"__proto__": {"dtype": "F32"}}'), 'constructor') },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('x'.repeat(100_000), deep(300), Array.from({ length: 10_000 }, (_, i) => i)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...edgeNumbers), { maxLength: 4 }) },
    ...(extra.length ? [{ weight: 4, arbitrary: fc.constantFrom(...extra) }] : []),
  );
}

export function jsonMutationArb(valueArb: fc.Arbitrary<unknown> = hostileJsonValueArb()): fc.Arbitrary<JsonMutation> {
  const path = fc.array(fc.nat(), { minLength: 1, maxLength: 4 });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), path, value: valueArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('swap' as const), path, other: path }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), path, name: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', '', '</s>', '<unk>')) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), path }) },
  );
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

/** The parent container and key that `path` leads to (stopping early at leaves or empty containers). */
function locate(root: Container, path: readonly number[]): { parent: Container; key: string | number } | undefined {
  let parent: Container = root;
  for (let depth = 0; ; depth++) {
    const keys: Array<string | number> = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) return undefined;
    const key = keys[path[depth] % keys.length];
    const child = (parent as Record<string | number, unknown>)[key];
    if (depth + 1 >= path.length || !isContainer(child)) return { parent, key };
    parent = child;
  }
}

/** Applies JSON mutations to a deep copy of `value`. */
export function applyJsonMutations(value: unknown, mutations: readonly JsonMutation[]): unknown {
  const root = structuredClone(value);
  if (!isContainer(root)) return root;
  const get = (p: Container, k: string | number): unknown => (p as Record<string | number, unknown>)[k];
  const set = (p: Container, k: string | number, v: unknown): void => {
    if (Array.isArray(p)) p[k as number] = v;
    else Object.defineProperty(p, k, { value: v, enumerable: true, writable: true, configurable: true }); // even "__proto__"
  };
  for (const m of mutations) {
    const at = locate(root, m.path);
    if (!at) continue;
    switch (m.kind) {
      case 'replace':
        set(at.parent, at.key, structuredClone(m.value));
        break;
      case 'delete':
        if (Array.isArray(at.parent)) at.parent.splice(at.key as number, 1);
        else delete at.parent[at.key as string];
        break;
      case 'swap': {
        const other = locate(root, m.other);
        if (!other) break;
        const a = get(at.parent, at.key), b = get(other.parent, other.key);
        set(at.parent, at.key, structuredClone(b));
        set(other.parent, other.key, structuredClone(a));
        break;
      }
      case 'rename':
        if (!Array.isArray(at.parent) && at.key !== m.name) {
          const v = get(at.parent, at.key);
          delete at.parent[at.key as string];
          set(at.parent, m.name, v);
        }
        break;
      case 'duplicate':
        if (Array.isArray(at.parent)) at.parent.push(structuredClone(get(at.parent, at.key)));
        else set(at.parent, `${String(at.key)}_copy`, structuredClone(get(at.parent, at.key)));
        break;
    }
  }
  return root;
}

// ---- running and counting -------------------------------------------------------------------------------

export class FuzzStats {
  runs = 0;
  valid = 0;
  cleanErrors = 0;
  maxRunMs = 0;
  maxRunGrowthBytes = 0;
  /** Distinct error problems seen (first words), to show what the fuzzer reached. */
  readonly problems = new Map<string, number>();

  constructor(readonly name: string) {}

  summary(): string {
    const top = [...this.problems.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([p, n]) => `${p} ×${n}`).join('; ');
    return `${this.name}: ${this.runs} runs, ${this.valid} valid, ${this.cleanErrors} clean ModelFileErrors, 0 other failures; ` +
      `slowest run ${this.maxRunMs.toFixed(1)} ms, largest memory growth ${(this.maxRunGrowthBytes / 1048576).toFixed(1)} MB` +
      (top ? `\n  most frequent errors: ${top}` : '');
  }
}

const memory = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

/**
 * Runs one fuzz case. Returns the result when valid, undefined after a clean ModelFileError whose message names
 * `file`; anything else (another error type, an error not naming the file, too slow, too much memory) fails with
 * `context` in the message.
 */
export function fuzzOnce<T>(stats: FuzzStats, file: string | readonly string[], context: () => string, run: () => T): T | undefined {
  stats.runs++;
  const mem0 = memory();
  const t0 = performance.now();
  let result: T | undefined;
  let error: unknown;
  let threw = false;
  try {
    result = run();
  } catch (e) {
    threw = true;
    error = e;
  }
  const ms = performance.now() - t0;
  const growth = memory() - mem0;
  stats.maxRunMs = Math.max(stats.maxRunMs, ms);
  stats.maxRunGrowthBytes = Math.max(stats.maxRunGrowthBytes, growth);
  assert.ok(ms < RUN_TIME_LIMIT_MS, `${stats.name}: one run took ${ms.toFixed(0)} ms (limit ${RUN_TIME_LIMIT_MS} ms) — ${context()}`);
  assert.ok(growth < RUN_MEMORY_LIMIT_BYTES, `${stats.name}: one run grew memory by ${(growth / 1048576).toFixed(0)} MB — ${context()}`);
  if (!threw) {
    stats.valid++;
    return result;
  }
  if (!(error instanceof ModelFileError)) {
    const e = error as Error;
    assert.fail(`${stats.name}: ${e?.name ?? typeof error} instead of a ModelFileError: ${e?.message ?? String(error)}\n  input: ${context()}\n${e?.stack ?? ''}`);
  }
  const files = typeof file === 'string' ? [file] : file;
  assert.ok(files.some((f) => error.file === f && error.message.startsWith(f)), `${stats.name}: the error names ${error.file}, expected one of ${files.join(', ')}: ${error.message}`);
  assert.ok(error.problem.length > 0 && error.problem.length < 2000, `${stats.name}: unhelpful problem text (${error.problem.length} chars)`);
  stats.cleanErrors++;
  const key = error.problem.replace(/"[^"]*"|\d+|\[[^\]]*\]|\([^)]*\)/g, '…').slice(0, 60);
  stats.problems.set(key, (stats.problems.get(key) ?? 0) + 1);
  return undefined;
}

/** fast-check's assert with the suite's seed and run count (shrinking kept: a failure reports a minimal input). */
export function runProperty<T>(arb: fc.Arbitrary<T>, numRuns: number, predicate: (value: T) => void): void {
  fc.assert(fc.property(arb, predicate), { seed: FUZZ_SEED, numRuns, verbose: 1 });
}
