/**
 * The WebAssembly memory the model's weights live in when the SIMD kernels run: one shared memory (its buffer is a
 * SharedArrayBuffer, so the matmul pool's helper threads see the same bytes), filled by a bump allocator. The
 * weight file is read straight into it; F16/BF16 tensors are widened into it; the kernels' scratch rows come from
 * it. Every Float32Array handed out is an ordinary view, so the JavaScript kernels can use the same weights.
 */

/** Bytes per WebAssembly page. */
export const PAGE = 65536;
/** The most a 32-bit WebAssembly memory can address: 65,536 pages (4 GiB). */
export const MAX_PAGES = 65536;

/** A model that does not fit: the caller falls back to the JavaScript kernels. */
export class WasmMemoryTooSmall extends Error {}

export class WasmArena {
  readonly memory: WebAssembly.Memory;
  /** Every SharedArrayBuffer object this memory has handed out (a new one after each grow). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private top: number;

  /**
   * A memory for about `bytes` of data, able to grow to `maxPages`. Throws WasmMemoryTooSmall when `bytes` cannot
   * fit or the runtime refuses the reservation.
   */
  constructor(bytes: number, maxPages?: number) {
    const initial = Math.ceil((bytes + PAGE) / PAGE); // + one page: address 0 stays unused and a little room
    // room to grow: F16/BF16 widened to twice the file, scratch rows, the pool's scratch (+256 MB); reserved, not used
    maxPages ??= Math.min(MAX_PAGES, 2 * initial + 4096);
    if (initial > maxPages) throw new WasmMemoryTooSmall(`${(bytes / 2 ** 20).toFixed(0)} MB exceed WebAssembly's ${(maxPages * PAGE / 2 ** 30).toFixed(0)} GiB memory`);
    try {
      this.memory = new WebAssembly.Memory({ initial, maximum: maxPages, shared: true });
    } catch (e) {
      throw new WasmMemoryTooSmall(`the runtime refused a ${(initial * PAGE / 2 ** 20).toFixed(0)} MB WebAssembly memory (${(e as Error).message})`);
    }
    this.buffers.add(this.memory.buffer);
    this.top = 64; // nothing at address 0: a zero pointer is never a real array
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }

  /** The memory's current buffer (after a grow, a new object over the same bytes). */
  get buffer(): SharedArrayBuffer {
    const b = this.memory.buffer as unknown as SharedArrayBuffer;
    this.buffers.add(b);
    return b;
  }

  /** `bytes` fresh (zeroed) bytes starting at a multiple of `align`; grows the memory when needed. */
  alloc(bytes: number, align = 16): number {
    const start = Math.ceil(this.top / align) * align;
    const end = start + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new WasmMemoryTooSmall(`cannot grow the WebAssembly memory to ${(end / 2 ** 20).toFixed(0)} MB (${(e as Error).message})`);
      }
    }
    this.top = end;
    return start;
  }

  /** A Uint8Array of `bytes` bytes in this memory whose first byte sits `shift` bytes past an 8-byte boundary. */
  bytes(bytes: number, shift = 0): Uint8Array {
    const p = this.alloc(bytes + shift, 8);
    return new Uint8Array(this.buffer, p + shift, bytes);
  }

  float32(n: number): Float32Array {
    const p = this.alloc(4 * n); // before reading `buffer`: the allocation may grow the memory
    return new Float32Array(this.buffer, p, n);
  }

  /** Byte address of x[0] in this memory, or −1 when x lives elsewhere. */
  addressOf(x: ArrayBufferView): number {
    return this.buffers.has(x.buffer) ? x.byteOffset : -1;
  }
}
