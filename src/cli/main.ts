/** `attention-lens`: the model core from the command line (scripts, benchmarks, conformance). One file per subcommand in commands/. */
import { Command } from 'commander';
import { ModelFileError } from '../model';
import { registerExplain } from './commands/explain';
import { registerGrad } from './commands/grad';
import { registerTrain } from './commands/train';
import { registerTrace } from './commands/trace';
import { registerTranslate } from './commands/translate';

// a closed pipe (`attention-lens explain … | head`) is a normal way for a reader to stop
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const program = new Command()
  .name('attention-lens')
  .description('Pure-TypeScript Marian translation with attention inspection.')
  .showHelpAfterError();

registerTranslate(program);
registerExplain(program);
registerTrace(program);
registerGrad(program);
registerTrain(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  const msg = e instanceof ModelFileError ? `model file problem: ${e.message}` : e instanceof Error ? e.message : String(e);
  process.stderr.write(`attention-lens: ${msg}\n`);
  process.exit(1);
});
