/** `attention-lens translate`: one translation per input line. */
import type { Command } from 'commander';
import * as readline from 'node:readline';
import { translate } from '../../model';
import { splitSentences } from '../../model/text/sentences';
import { MODEL_HELP, THREADS_HELP, loadCliModel, positiveInt, useThreads } from '../common';

export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('translate one sentence per line from stdin to stdout')
    .option('--model <dir>', MODEL_HELP)
    .option('--beams <n>', 'beam size (1 = greedy)', positiveInt(16), 1)
    .option('--max-new-tokens <n>', 'generated-token limit (default: the model\'s max_length)', positiveInt(4096))
    .option('--threads <n>', THREADS_HELP, positiveInt(16))
    .option('--split', 'each line may hold several sentences: translate each on its own and join the translations with one space')
    .action(async (o: { model?: string; beams: number; maxNewTokens?: number; threads?: number; split?: boolean }) => {
      const lm = loadCliModel(o.model);
      const pool = useThreads(lm, o.threads);
      const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
      for await (const line of rl) {
        const one = (text: string) => translate(lm, text, { numBeams: o.beams, maxNewTokens: o.maxNewTokens }).text;
        // Marian models are sentence translators: with --split a line is cut into sentences first.
        const out = line.trim() === '' ? '' : o.split ? splitSentences(line).map((s) => one(s.text)).join(' ') : one(line);
        process.stdout.write(out + '\n');
      }
      await pool?.close();
    });
}
