/** `attention-lens`: the model core from the command line (scripts, benchmarks, conformance). One file per subcommand in commands/. */
import { Command } from 'commander';
import { ModelFileError } from '../model';
import { escapeControls } from '../shared/safeText';
import { outputErrorLine } from './common';
import { registerExplain } from './commands/explain';
import { registerGrad } from './commands/grad';
import { registerTrain } from './commands/train';
import { registerTrace } from './commands/trace';
import { registerTranslate } from './commands/translate';

// Output errors end the run with one line on stderr, never a stack trace. A closed pipe (`… | head`) is a normal way
// for a reader to stop (status 0); a full disk (`> /dev/full`) or an I/O error is a failure (status 1).
const onOutputError = (e: NodeJS.ErrnoException): void => {
  try {
    process.stderr.write(`attention-lens: ${outputErrorLine(e)}\n`);
  } catch {
    // stderr is gone too: the status still tells
  }
  process.exit(e.code === 'EPIPE' ? 0 : 1);
};
process.stdout.on('error', onOutputError);
process.stderr.on('error', () => process.exit(1));

const program = new Command()
  .name('attention-lens')
  .description('Pure-TypeScript Marian translation with attention inspection.')
  .showHelpAfterError();

registerTranslate(program);
registerExplain(program);
registerTrace(program);
registerGrad(program);
registerTrain(program);

const OUTPUT_ERRORS = new Set(['EPIPE', 'ENOSPC', 'EDQUOT', 'EIO', 'EBADF']);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  // a write that failed synchronously (stdout redirected to a file) arrives here rather than as an 'error' event
  if (err && typeof err.code === 'string' && OUTPUT_ERRORS.has(err.code) && err.syscall === 'write') return onOutputError(err);
  // messages can quote file contents: control and invisible characters are shown escaped (one line, inert)
  const msg = e instanceof ModelFileError ? `model file problem: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`attention-lens: ${escapeControls(msg)}\n`);
  process.exit(1);
});
