/**
 * Reads a PyTorch `torch.save` checkpoint (the zip format PyTorch ≥ 1.6 writes, e.g. `pytorch_model.bin`):
 * `<name>/data.pkl` (a pickled state dict, read by the restricted unpickler) plus one `<name>/data/<key>` record per
 * storage. Tensors come back as the same `RawTensor`s the safetensors reader produces, their bytes viewing the
 * archive buffer (no copy).
 */
import { ModelFileError } from '../errors';
import type { DType, RawTensor } from '../safetensors';
import { PyDict, unpickleStateDict, type TensorRef } from './unpickle';
import { ZipArchive, crc32 } from './zip';

const BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

/** Largest data.pkl read. */
export const MAX_PICKLE_BYTES = 16 * 1024 * 1024;

function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

export function parsePytorchCheckpoint(file: string, buf: Uint8Array): Map<string, RawTensor> {
  const fail = (problem: string): never => {
    throw new ModelFileError(file, problem);
  };
  if (!isZip(buf)) {
    if (buf.length >= 2 && buf[0] === 0x80 && buf[1] <= 5) {
      fail("is in PyTorch's legacy (pre-1.6, non-zip) format, which is not supported; re-save it with a current torch.save or convert it to model.safetensors");
    }
    fail(buf.length === 0 ? 'is empty' : 'is not a PyTorch zip checkpoint (no ZIP signature at the start)');
  }
  const zip = new ZipArchive(file, buf);
  const pickles = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length === 0) fail('has no <name>/data.pkl record: it is a ZIP archive but not a PyTorch checkpoint');
  if (pickles.length > 1) fail(`holds several checkpoints (${pickles.join(', ')})`);
  const pklName = pickles[0];
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.get(`${prefix}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(zip.data(byteorder)).trim();
    if (order !== 'little') fail(`stores tensors in "${order}"-endian byte order; only little-endian checkpoints are supported`);
  }
  const pklEntry = zip.entries.get(pklName)!;
  // a state dict's pickle is small (opus-mt: ~40 KB; thousands of tensors: ~1 MB): a larger one is refused unread
  if (pklEntry.size > MAX_PICKLE_BYTES) fail(`record ${pklName} is ${pklEntry.size} bytes; a state dict's pickle needs far less (at most ${MAX_PICKLE_BYTES} accepted)`);
  const pkl = zip.data(pklEntry);
  if (crc32(pkl) !== pklEntry.crc32) fail(`record ${pklName} is damaged (CRC mismatch)`);
  const root = unpickleStateDict(file, pkl, pklName);
  if (!(root instanceof PyDict)) fail(`${pklName} does not hold a state dict (a dict of tensors)`);

  const tensors = new Map<string, RawTensor>();
  for (const [name, value] of (root as PyDict).map) {
    if (typeof value !== 'object' || value === null || (value as TensorRef).kind !== 'tensor') continue; // non-tensor entries are not weights
    if (typeof name !== 'string') fail(`${pklName} has a tensor under a non-string key ${JSON.stringify(name)}`);
    const t = value as TensorRef;
    const { dtype, key } = t.storage;
    const es = BYTES[dtype];
    const recordName = `${prefix}data/${key}`;
    const record = zip.entries.get(recordName);
    if (!record) fail(`is missing the data record ${recordName} for tensor "${name}"`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel > 0) {
      let expected = 1;
      for (let i = t.shape.length - 1; i >= 0; i--) {
        if (t.shape[i] !== 1 && t.stride[i] !== expected) {
          fail(`tensor "${name}" is not contiguous (shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}]); re-save it after .contiguous()`);
        }
        expected *= t.shape[i];
      }
    }
    const begin = t.storageOffset * es;
    const end = begin + numel * es;
    if (end > record!.size) {
      fail(`storage ${recordName} holds ${record!.size} bytes, too short for tensor "${name}" of shape [${t.shape.join(', ')}] ${dtype} at element offset ${t.storageOffset} (needs ${end})`);
    }
    tensors.set(name as string, { dtype, shape: t.shape, bytes: buf.subarray(record!.dataOffset + begin, record!.dataOffset + end) });
  }
  if (tensors.size === 0) fail(`${pklName} holds no tensors`);
  return tensors;
}
