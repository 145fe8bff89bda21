/** `attention-lens translate`: one translation per input line. */
import type { Command } from 'commander';
import { translate } from '../../model';
import { splitSentences } from '../../model/text/sentences';
import { KERNEL_HELP, MODEL_HELP, PRECISION_HELP, THREADS_HELP, kernelSetting, loadCliModel, precisionSetting, positiveInt, readLines, useThreads, writeOut } from '../common';
import type { KernelSetting, Precision } from '../../model/kernels/kernelChoice';

export function registerTranslate(program: Command): void {
  program
    .command('translate')
    .description('translate one sentence per line from stdin to stdout')
    .option('--model <dir>', MODEL_HELP)
    .option('--beams <n>', 'beam size (1 = greedy)', positiveInt(16), 1)
    .option('--max-new-tokens <n>', 'generated-token limit (default: the model\'s max_length)', positiveInt(4096))
    .option('--threads <n>', THREADS_HELP, positiveInt(16))
    .option('--kernel <path>', KERNEL_HELP, kernelSetting, 'auto')
    .option('--precision <sums>', PRECISION_HELP, precisionSetting)
    .option('--split', 'each line may hold several sentences: translate each on its own and join the translations with one space')
    .action(async (o: { kernel: KernelSetting; precision?: Precision; model?: string; beams: number; maxNewTokens?: number; threads?: number; split?: boolean }) => {
      const lm = loadCliModel(o.model, o.kernel, o.precision);
      const pool = useThreads(lm, o.threads);
      // only LF and CRLF end a line (a lone CR does not); each line at most MAX_LINE_BYTES
      for await (const line of readLines()) {
        const one = (text: string) => translate(lm, text, { numBeams: o.beams, maxNewTokens: o.maxNewTokens }).text;
        // Marian models are sentence translators: with --split a line is cut into sentences first.
        const out = line.trim() === '' ? '' : o.split ? splitSentences(line).map((s) => one(s.text)).join(' ') : one(line);
        await writeOut(out + '\n');
      }
      await pool?.close();
    });
}
