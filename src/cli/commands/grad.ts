/** `attention-lens grad`: the training loss of one sentence pair and the gradient of every weight tensor. */
import type { Command } from 'commander';
import { gradReport } from '../../model/train/gradReport';
import { MODEL_HELP, loadCliModel } from '../common';

export function registerGrad(program: Command): void {
  program
    .command('grad')
    .description("Hugging Face's training loss (mean cross-entropy, no dropout or label smoothing) for one pair, and each weight tensor's gradient norm and first 16 values")
    .option('--model <dir>', MODEL_HELP)
    .requiredOption('--source <text>', 'source sentence')
    .requiredOption('--target <text>', 'its reference translation (the labels: its tokens + </s>)')
    .option('--json', 'print JSON (the only output format)', true)
    .action((o: { model?: string; source: string; target: string }) => {
      const report = gradReport(loadCliModel(o.model), o.source, o.target);
      process.stdout.write(JSON.stringify(report) + '\n');
    });
}
