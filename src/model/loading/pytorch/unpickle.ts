/**
 * A restricted pickle reader for PyTorch state dicts. It interprets only the opcodes `torch.save` emits for a
 * dict of tensors and builds plain data: nothing is ever imported, called or executed. Globals outside a short
 * allow-list and every other opcode are refused with the byte position, so a hostile file can only fail to load.
 */
import { ModelFileError } from '../errors';
import type { DType } from '../safetensors';

/** A `torch.<Type>Storage` reference from a persistent id: the tensor bytes live in the archive record `data/<key>`. */
export interface StorageRef {
  kind: 'storage';
  dtype: DType;
  key: string;
  /** Element count the pickle declares (informational; the record size is what is checked). */
  numel: number;
}

/** What `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` describes. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements, not bytes. */
  storageOffset: number;
  shape: number[];
  stride: number[];
}

/** A Python dict or OrderedDict (insertion-ordered, keys compared by value for strings and numbers). */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
}

/** The only callables/classes a state dict needs. */
type Global =
  | { kind: 'global'; name: 'collections.OrderedDict' }
  | { kind: 'global'; name: 'torch._utils._rebuild_tensor_v2' }
  | { kind: 'global'; name: 'torch._utils._rebuild_parameter' }
  | { kind: 'global'; name: 'storage'; dtype: DType; qualified: string };

const STORAGE_TYPES: Record<string, DType> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
};

type Tuple = readonly unknown[] & { readonly __tuple: true };
const tuple = (items: unknown[]): Tuple => Object.freeze(items) as unknown as Tuple;
const isTuple = (v: unknown): v is Tuple => Array.isArray(v) && Object.isFrozen(v);

/**
 * Bounds on what a pickle may build. torch.save writes a state dict as SETITEMS batches of 1000 pairs, so its stack
 * stays below a few thousand entries and it memoizes about ten objects per tensor; a pickle that needs more is not
 * a state dict, and without bounds one of a single repeated opcode (EMPTY_DICT, MARK, NONE…) makes the reader
 * allocate gigabytes or hit V8's array size limit (a fatal error, not an exception).
 */
export const PICKLE_LIMITS = { stack: 1 << 17, marks: 1 << 16, memo: 1 << 20, items: 1 << 22 } as const;

/** Interprets `data` (the archive's data.pkl) and returns the top-level object. */
export function unpickleStateDict(file: string, data: Uint8Array, entryName = 'data.pkl'): unknown {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opPos = 0;
  /** Elements put into lists and dicts so far (bounded by PICKLE_LIMITS.items). */
  let itemCount = 0;

  const fail = (problem: string): never => {
    throw new ModelFileError(file, `${problem} at byte ${opPos} of ${entryName}`);
  };
  const need = (n: number): void => {
    if (pos + n > data.length) fail(`truncated pickle: ${n} more bytes expected`);
  };
  const u8 = (): number => (need(1), data[pos++]);
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const text = (n: number): string => {
    const b = bytes(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string that is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle: unterminated GLOBAL name');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m!);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo slot ${i} is empty`);
    return memo.get(i);
  };
  const resolveGlobal = (module: string, name: string): Global => {
    const qualified = `${module}.${name}`;
    if (qualified === 'collections.OrderedDict') return { kind: 'global', name: qualified };
    if (qualified === 'torch._utils._rebuild_tensor_v2') return { kind: 'global', name: qualified };
    if (qualified === 'torch._utils._rebuild_parameter') return { kind: 'global', name: qualified };
    const dtype = STORAGE_TYPES[qualified];
    if (dtype) return { kind: 'global', name: 'storage', dtype, qualified };
    if (module === 'torch' && /^[A-Za-z0-9]+Storage$/.test(name)) {
      fail(`refuses global ${qualified}: tensor type not supported (supported: FloatStorage, HalfStorage, BFloat16Storage)`);
    }
    return fail(`refuses global ${qualified} (only plain tensor state dicts can be read)`);
  };
  const intArg = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what} is not an integer`);
    return v as number;
  };
  const intTuple = (v: unknown, what: string): number[] => {
    if (!isTuple(v) && !Array.isArray(v)) fail(`${what} is not a tuple`);
    return (v as unknown[]).map((x) => intArg(x, what));
  };
  const reduce = (fn: unknown, args: unknown): unknown => {
    if (!isTuple(args)) fail('REDUCE arguments are not a tuple');
    const a = args as readonly unknown[];
    const g = fn as Global;
    if (typeof fn !== 'object' || fn === null || g.kind !== 'global') fail('REDUCE of something that is not an allowed global');
    switch (g.name) {
      case 'collections.OrderedDict':
        if (a.length !== 0) fail('OrderedDict with constructor arguments');
        return new PyDict();
      case 'torch._utils._rebuild_tensor_v2': {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.length < 4) fail(`_rebuild_tensor_v2 with ${a.length} arguments`);
        const storage = a[0] as StorageRef;
        if (typeof storage !== 'object' || storage === null || storage.kind !== 'storage') fail('_rebuild_tensor_v2 without a storage');
        const t: TensorRef = {
          kind: 'tensor',
          storage,
          storageOffset: intArg(a[1], 'tensor storage offset'),
          shape: intTuple(a[2], 'tensor size'),
          stride: intTuple(a[3], 'tensor stride'),
        };
        if (t.shape.length !== t.stride.length) fail(`tensor size and stride have different ranks`);
        if (t.storageOffset < 0 || t.shape.some((d) => d < 0)) fail('negative tensor size or offset');
        return t;
      }
      case 'torch._utils._rebuild_parameter': {
        // (data, requires_grad, backward_hooks): a Parameter is just its tensor here
        const t = a[0] as TensorRef;
        if (typeof t !== 'object' || t === null || t.kind !== 'tensor') fail('_rebuild_parameter without a tensor');
        return t;
      }
      case 'storage':
        return fail(`${g.qualified} called directly`);
    }
  };
  const countItems = (n: number): void => {
    itemCount += n;
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    countItems(items.length / 2);
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean' && k !== null) fail('a dict key that is not a string or number');
      (target as PyDict).map.set(k, items[i + 1]);
    }
  };

  const tooMuch = (what: string, limit: number): never =>
    fail(`${what} grows past ${limit} entries: not a state dict (a pickle that large would exhaust memory)`);
  for (;;) {
    opPos = pos;
    if (stack.length > PICKLE_LIMITS.stack) tooMuch('the pickle stack', PICKLE_LIMITS.stack);
    if (marks.length > PICKLE_LIMITS.marks) tooMuch('the MARK stack', PICKLE_LIMITS.marks);
    if (memo.size > PICKLE_LIMITS.memo) tooMuch('the memo', PICKLE_LIMITS.memo);
    if (itemCount > PICKLE_LIMITS.items) tooMuch('the lists and dicts', PICKLE_LIMITS.items);
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('unknown pickle protocol');
        break;
      case 0x95: // FRAME (protocol 4): a length hint only
        bytes(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} objects on the stack`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const b = bytes(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail('an integer too large for this reader');
        stack.push(Number(v));
        break;
      }
      case 0x47: { // BINFLOAT (big-endian double)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without module and name strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        stack.push(reduce(fn, args));
        break;
      }
      case 0x62: { // BUILD: only the OrderedDict attribute state torch.save attaches (_metadata) — ignored
        pop();
        if (!(top() instanceof PyDict)) fail('BUILD on something that is not an OrderedDict');
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop();
        if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') fail('a persistent id that is not a storage reference');
        const p = pid as readonly unknown[];
        const type = p[1] as Global;
        if (typeof type !== 'object' || type === null || type.kind !== 'global' || type.name !== 'storage') fail('a storage reference without a storage type');
        if (typeof p[2] !== 'string') fail('a storage key that is not a string');
        const ref: StorageRef = { kind: 'storage', dtype: (type as { dtype: DType }).dtype, key: p[2] as string, numel: intArg(p[4], 'storage size') };
        stack.push(ref);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list) || isTuple(list)) fail('APPEND to something that is not a list');
        (list as unknown[]).push(v);
        itemCount++;
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list) || isTuple(list)) fail('APPENDS to something that is not a list');
        for (const it of items) (list as unknown[]).push(it);
        countItems(items.length);
        break;
      }
      default:
        opPos = pos - 1;
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
