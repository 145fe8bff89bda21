/** `attention-lens trace --json`: one token followed through every layer of its side, with every intermediate. */
import { InvalidArgumentError, type Command } from 'commander';
import { trace } from '../../model/explain/trace';
import { MODEL_HELP, loadCliModel, readStdin } from '../common';

function side(value: string): 'source' | 'target' {
  if (value !== 'source' && value !== 'target') throw new InvalidArgumentError('expected "source" or "target"');
  return value;
}

function tokenIndex(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a token index (0, 1, 2, …)');
  return n;
}

export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('follow one token through the model: embedding, every layer\'s attention heads (q, keys, values, scores, weights, context), residuals, LayerNorms, feed-forward, and on the target side the next-token logits')
    .argument('[sentence...]', 'the source sentence (default: stdin)')
    .option('--json', 'write JSON (the only format)', true)
    .option('--model <dir>', MODEL_HELP)
    .option('--side <side>', 'source (encoder) or target (decoder input: start token, then the translation without its final </s>)', side, 'source')
    .option('--token <i>', 'index of the token on that side (target token i predicts target token i+1)', tokenIndex, 0)
    .option('--target <text>', 'the translation to feed the decoder (default: the greedy translation)')
    .action(async (words: string[], o: { model?: string; side: 'source' | 'target'; token: number; target?: string }) => {
      const text = words.length ? words.join(' ') : (await readStdin()).trim();
      if (!text.trim()) throw new InvalidArgumentError('nothing to trace: give a sentence or pipe one on stdin');
      const lm = loadCliModel(o.model);
      const t = trace(lm, text, { side: o.side, token: o.token, target: o.target });
      process.stdout.write(JSON.stringify(t) + '\n');
    });
}
