/**
 * Issue 18's closing note: builds every pathological case on the fly, runs each in its own process under
 * /usr/bin/time, and prints the outcome (valid result or the error's first line), wall time and peak memory (max
 * RSS). `node --import tsx scripts/hostile-measure.ts` (all cases) or `… --only <substring>`.
 * Run under `flock /tmp/heavy.lock` on a shared machine: it writes multi-GB sparse files and fills a worker's heap.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelFolder, translate, explain } from '../src/model';
import { SentencePieceProcessor } from '../src/model/tokenizer/sentencepiece';
import { ROOT, BUNDLED_MODEL, TINY_MODEL } from '../test/helpers/golden';
import {
  editTensor, fifoIn, hugeVocab, oneRuleCharsmap, opcodeBomb, sparseFile, symlinkIn, tinyCopy, tinyTensors, withCharsmap, withExtraPiece, withPickle,
} from '../test/helpers/hostileFiles';
import { buildZip, encodeSafetensors, readZipEntries } from '../test/helpers/modelFiles';

const SELF = path.join(ROOT, 'scripts', 'hostile-measure.ts');
const BIN = path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-bin');
const TEXT = 'The lion kills the tiger.';

/** Child mode: one action, its outcome on stdout. */
function child(args: string[]): void {
  const [action, target, extra] = args;
  try {
    if (action === 'translate') {
      const lm = loadModelFolder(target);
      const r = translate(lm, TEXT, { numBeams: Number(extra ?? 1) });
      console.log(`valid: ${r.ids.length - 1} tokens`);
    } else if (action === 'explain') {
      const lm = loadModelFolder(target);
      const e = explain(lm, fs.readFileSync(extra, 'utf8'), { maxSourceTokens: 128 });
      console.log(`valid: ${e.sourceIds.length} source tokens`);
    } else if (action === 'spm') {
      const p = SentencePieceProcessor.fromBuffer(target, fs.readFileSync(target));
      const [ch, count] = extra.split('*');
      console.log(`valid: ${p.encode(ch.repeat(Number(count))).length} pieces`);
    }
  } catch (e) {
    console.log(`error: ${(e as Error).message.split('\n')[0].slice(0, 220)}`);
  }
}

interface Case {
  name: string;
  /** Shell command (run under /usr/bin/time); `$CHILD` runs this script's child mode. */
  command: string;
}

function prepare(tmp: string): Case[] {
  const cases: Case[] = [];
  const CHILD = `node --import tsx ${SELF} --child`;
  const CLI = `node --import tsx ${path.join(ROOT, 'src', 'cli', 'main.ts')}`;
  let i = 0;
  const folder = (from = TINY_MODEL) => tinyCopy(tmp, `c${i++}`, from);
  const add = (name: string, command: string) => cases.push({ name, command });
  const tr = (name: string, dir: string, beams = 1) => add(name, `${CHILD} translate ${dir} ${beams}`);

  tr('baseline: tiny model, translate', TINY_MODEL);
  // 1 special files
  for (const [file, dev] of [['config.json', '/dev/zero'], ['vocab.json', '/dev/urandom'], ['source.spm', '/dev/zero'], ['target.spm', '/dev/urandom'], ['tokenizer_config.json', '/dev/zero'], ['model.safetensors', '/dev/zero']]) {
    const d = folder();
    symlinkIn(d, file, dev);
    tr(`1 ${file} -> ${dev}`, d);
  }
  { const d = folder(); symlinkIn(d, 'target_vocab.json', '/dev/zero'); tr('1 unused target_vocab.json -> /dev/zero', d); }
  for (const file of ['config.json', 'vocab.json', 'source.spm', 'model.safetensors']) { const d = folder(); fifoIn(d, file); tr(`1 FIFO as ${file}`, d); }
  { const d = folder(); symlinkIn(d, 'vocab.json', 'b'); fs.symlinkSync('vocab.json', path.join(d, 'b')); tr('1 symlink loop vocab.json', d); }
  // 2 non-finite
  const nan = (name: string, tensor: string, edit: (v: Float32Array) => void, beams = 1) => { const d = folder(); editTensor(d, tensor, edit); tr(name, d, beams); };
  nan('2 one NaN in decoder.layers.0.fc1.weight', 'decoder.layers.0.fc1.weight', (v) => (v[5] = NaN));
  nan('2 same, --beams 4', 'decoder.layers.0.fc1.weight', (v) => (v[5] = NaN), 4);
  nan('2 one NaN in encoder.layers.1 q_proj', 'encoder.layers.1.self_attn.q_proj.weight', (v) => (v[0] = NaN));
  nan('2 +Inf in unused embedding row 7000', 'shared.weight', (v) => (v[7000 * 64] = Infinity));
  nan('2 ±3e38 in encoder fc1 (overflow)', 'encoder.layers.0.fc1.weight', (v) => v.forEach((_, k) => (v[k] = k % 2 ? -3e38 : 3e38)));
  {
    const d = folder();
    const f16 = tinyTensors(d).map((t) => ({ ...t, dtype: 'F16' as const, data: new Uint8Array(new Uint16Array(t.shape.reduce((a, b) => a * b, 1)).fill(0x7e00).buffer) }));
    fs.writeFileSync(path.join(d, 'model.safetensors'), encodeSafetensors(f16));
    tr('2 all-NaN F16 weights', d);
  }
  {
    const d = folder(BIN);
    const entries = readZipEntries(fs.readFileSync(path.join(d, 'pytorch_model.bin'))).map((e) =>
      /\/data\/\d+$/.test(e.name) ? { ...e, data: new Uint8Array(new Float32Array(e.data.length / 4).fill(NaN).buffer), crc: undefined } : e);
    fs.writeFileSync(path.join(d, 'pytorch_model.bin'), buildZip(entries));
    tr('2 NaN pytorch_model.bin', d);
  }
  { const d = folder(); fs.writeFileSync(path.join(d, 'generation_config.json'), JSON.stringify({ bad_words_ids: Array.from({ length: 7999 }, (_, k) => [k]) })); tr('2 bad_words_ids bans every token', d); }
  // 3 bounded cost
  { const d = folder(); sparseFile(path.join(d, 'model.safetensors'), fs.readFileSync(path.join(TINY_MODEL, 'model.safetensors')), 2.2e9); tr('3 2.2 GB sparse model.safetensors, tiny header', d); }
  { const d = folder(BIN); sparseFile(path.join(d, 'pytorch_model.bin'), fs.readFileSync(path.join(BIN, 'pytorch_model.bin')), 2.2e9); tr('3 2.2 GB sparse pytorch_model.bin', d); }
  { const d = folder(); hugeVocab(path.join(d, 'vocab.json'), 5_000_000); tr('3 5M-entry vocab.json', d); }
  { const d = folder(); hugeVocab(path.join(d, 'vocab.json'), 8_000); tr('3 vocab.json 8000 entries (vocab_size 7999)', d); }
  { const d = folder(BIN); withPickle(path.join(BIN, 'pytorch_model.bin'), opcodeBomb(0x7d, 40_000_000), path.join(d, 'pytorch_model.bin')); tr('3 40 MB data.pkl of EMPTY_DICT', d); }
  { const d = folder(BIN); withPickle(path.join(BIN, 'pytorch_model.bin'), opcodeBomb(0x4e, 115_000_000), path.join(d, 'pytorch_model.bin')); tr('3 115 MB data.pkl of NONE', d); }
  { const d = folder(BIN); withPickle(path.join(BIN, 'pytorch_model.bin'), opcodeBomb(0x7d, 15_000_000), path.join(d, 'pytorch_model.bin')); tr('3 15 MB data.pkl of EMPTY_DICT (under the size cap)', d); }
  // 4 tokenizer
  const spm = new Uint8Array(fs.readFileSync(path.join(TINY_MODEL, 'source.spm')));
  const spmCase = (name: string, buf: Uint8Array, text: string) => { const f = path.join(tmp, `s${i++}.spm`); fs.writeFileSync(f, buf); add(name, `${CHILD} spm ${f} '${text}'`); };
  spmCase('4 100 KB piece + 100 KB of "a"', withExtraPiece(spm, new Uint8Array(100_000).fill(0x61), 1), 'a*100000');
  spmCase('4 64 KB user-defined symbol + 100 KB of "a"', withExtraPiece(spm, new Uint8Array(65_536).fill(0x61), 4), 'a*100000');
  spmCase('4 512-byte piece + 100 KB of "a"', withExtraPiece(spm, new Uint8Array(512).fill(0x61), 1, 0), 'a*100000');
  spmCase('4 512-byte user-defined + 1 MB of "a"', withExtraPiece(spm, new Uint8Array(512).fill(0x61), 4), 'a*1000000');
  spmCase('4 charsmap a -> 255 bytes on 300 KB of "a"', withCharsmap(spm, oneRuleCharsmap(0x61, new Uint8Array(255).fill(0x78))), 'a*300000');
  // 5
  { const d = folder(); const v = JSON.parse(fs.readFileSync(path.join(d, 'vocab.json'), 'utf8')); v['▁lion'] = 50000; fs.writeFileSync(path.join(d, 'vocab.json'), JSON.stringify(v)); tr('5 vocab.json id 50000 >= vocab_size', d); }
  // 6
  { const d = folder(); fs.writeFileSync(path.join(d, 'config.json'), '\x1b]0;pwned\x07\x1b[2J{}'); add('6 config.json starting with ESC ]0;…BEL ESC[2J (stderr bytes < 0x20 shown)', `${CLI} translate --model ${d} </dev/null 2>&1 >/dev/null | od -c | grep -c '033' ; true`); }
  { const d = folder(); symlinkIn(d, 'config.json', '/etc/passwd'); tr('6 config.json -> /etc/passwd', d); }
  // 7 CLI
  add('7 lone CR: 3 lines in (one with a CR) -> lines out', `printf 'Hello.\\rGood morning.\\nThe cat.\\r\\nThanks' | ${CLI} translate --model ${TINY_MODEL} --threads 1 | wc -l`);
  add('7 translate > /dev/full', `echo Hello. | ${CLI} translate --model ${TINY_MODEL} --threads 1 > /dev/full; echo status $?`);
  add('7 closed pipe (3000 lines | head -1)', `yes Hello. | head -3000 | ${CLI} translate --model ${TINY_MODEL} --threads 1 | head -1 >/dev/null; echo status \${PIPESTATUS[2]}`);
  add('7 600 MB line', `head -c 600000000 /dev/zero | tr '\\0' a | ${CLI} translate --model ${TINY_MODEL} --threads 1; echo status \${PIPESTATUS[2]}`);
  {
    const d = tinyCopy(tmp, `c${i++}`, BUNDLED_MODEL);
    const cfg = JSON.parse(fs.readFileSync(path.join(d, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, max_position_embeddings: 2048 }));
    const text = path.join(tmp, 'long.txt');
    fs.writeFileSync(text, Array.from({ length: 1400 }, (_, k) => `word${k}`).join(' '));
    add('7 explain, 2048-position model, ~2,100-token input (default --max-tokens)', `${CLI} explain --model ${d} --threads 1 < ${text} | wc -c`);
  }
  return cases;
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args.slice(1));
  const only = args[0] === '--only' ? args[1] : undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-measure-'));
  try {
    const cases = prepare(tmp).filter((c) => !only || c.name.includes(only));
    console.log(`| case | outcome | time (s) | peak RSS (MB) |\n|---|---|---|---|`);
    for (const c of cases) {
      const timeFile = path.join(tmp, 'time.txt');
      const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %M', 'bash', '-c', c.command], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 26 });
      const [secs, kb] = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ') : ['?', '0'];
      const out = `${r.stdout.trim()} ${r.stderr.trim()}`.trim().replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 240) || `(no output, status ${r.status})`;
      console.log(`| ${c.name} | ${r.error ? `TIMEOUT/ERROR ${r.error.message}` : out} | ${secs} | ${(Number(kb) / 1024).toFixed(0)} |`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
