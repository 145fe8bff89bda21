/**
 * Reading model files safely. A model folder comes from a repository or a workspace setting, so any of its names
 * may be a symlink to /dev/zero or /dev/urandom (a read that never ends), a FIFO (an open that blocks forever), a
 * symlink loop, a folder, or a file far larger than its purpose needs. Only regular files are read; each file's
 * type is checked before it is opened (following symlinks) and again on the open descriptor, which is opened
 * non-blocking so that a file swapped for a FIFO in between cannot block either; and every file has a size cap
 * that fits what it holds. Reads take exactly the size stat reported, never "until end of file".
 */
import * as fs from 'node:fs';
import { ModelFileError } from './errors';

const KB = 1024;
const MB = 1024 * KB;

/**
 * Largest accepted size per kind of file, far above real checkpoints (opus-mt: config.json ≈ 1.5 KB, vocab.json
 * ≈ 1–2 MB, .spm ≈ 0.8 MB; the largest SentencePiece models, 250k pieces, are ≈ 5 MB).
 */
export const FILE_CAPS = {
  /** config.json, generation_config.json, tokenizer_config.json, special_tokens_map.json */
  json: 4 * MB,
  /** vocab.json, target_vocab.json (checked again against vocab_size: see vocabBytesCap) */
  vocab: 64 * MB,
  /** source.spm, target.spm */
  spm: 32 * MB,
} as const;

/** Describes what a non-regular file is, for "config.json is a character device, not a file". */
function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function sizeText(n: number): string {
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (n >= KB) return `${(n / KB).toFixed(1)} KB`;
  return `${n} bytes`;
}

/** Why a stat or open of `file` failed, as a problem text (ELOOP is a symlink loop, not a missing file). */
function errnoProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'ELOOP':
      return 'is a symbolic link loop (or a chain of more than 40 links), not a file';
    case 'ENOTDIR':
      return 'file not found (a part of its path is not a folder)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ENAMETOOLONG':
      return 'cannot be read (the path is too long)';
    default:
      return `cannot be read (${code ?? (e as Error).message})`;
  }
}

/**
 * Whether a directory entry named `file` exists at all (a dangling symlink or a loop counts: reading it then
 * reports what is wrong, instead of the file being silently treated as absent).
 */
export function entryExists(file: string): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // e.g. EACCES on the folder: let the read report it
  }
}

/**
 * Checks that `file` is a regular file of at most `cap` bytes (following symlinks) and returns its stats.
 * `name` is what the message calls it (the full path by default).
 */
export function statModelFile(file: string, cap: number, purpose?: string): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new ModelFileError(file, errnoProblem(e));
  }
  checkStats(file, st, cap, purpose);
  return st;
}

function checkStats(file: string, st: fs.Stats, cap: number, purpose?: string): void {
  if (!st.isFile()) throw new ModelFileError(file, `is ${kindOf(st)}, not a file`);
  if (st.size > cap) {
    throw new ModelFileError(file, `is ${sizeText(st.size)}, more than the ${sizeText(cap)} a ${purpose ?? 'file of this kind'} can need; refusing to read it`);
  }
}

/**
 * Opens a regular file for reading without ever blocking (O_NONBLOCK: a FIFO put in its place after the stat still
 * opens at once), re-checks the type and size on the descriptor, and hands it to `use`. Closed afterwards.
 */
export function withModelFile<T>(file: string, cap: number, purpose: string | undefined, use: (fd: number, size: number) => T): T {
  statModelFile(file, cap, purpose);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new ModelFileError(file, errnoProblem(e));
  }
  try {
    const st = fs.fstatSync(fd);
    checkStats(file, st, cap, purpose);
    return use(fd, st.size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads `length` bytes at `position` of an open file into `out[outOffset…]`; a file that shrank is an error. */
export function readRange(file: string, fd: number, out: Uint8Array, outOffset: number, length: number, position: number): void {
  let done = 0;
  try {
    while (done < length) {
      const n = fs.readSync(fd, out, outOffset + done, Math.min(length - done, 1 << 30), position + done);
      if (n === 0) throw new ModelFileError(file, `ends after ${position + done} bytes, before the data it declares (file truncated or changed while reading)`);
      done += n;
    }
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(file, errnoProblem(e));
  }
}

/** The whole of a small model file (JSON, .spm), after the checks above: at most `cap` bytes are ever read. */
export function readSmallModelFile(file: string, cap: number, purpose?: string): Buffer {
  return withModelFile(file, cap, purpose, (fd, size) => {
    const buf = Buffer.alloc(size);
    readRange(file, fd, buf, 0, size, 0);
    return buf;
  });
}
