import { escapeControls } from '../../shared/safeText';

/**
 * Every problem with user-supplied model files surfaces as this error, naming the file and what is wrong with it.
 * Both are shown with control and invisible characters escaped (see escapeControls): problems quote tensor names,
 * pieces and globals from the file, and folder names are as untrusted as the files.
 */
export class ModelFileError extends Error {
  readonly problem: string;
  constructor(readonly file: string, problem: string) {
    const shown = escapeControls(shorten(problem));
    super(`${escapeControls(file)}: ${shown}`);
    this.name = 'ModelFileError';
    this.problem = shown;
  }
}

/** Longest problem text kept whole; a hostile file can otherwise put megabytes of quoted values into a message. */
const MAX_PROBLEM_CHARS = 600;

/** Keeps both ends of an overlong problem text (what is wrong is usually stated at the end). */
function shorten(problem: string): string {
  if (problem.length <= MAX_PROBLEM_CHARS) return problem;
  const head = problem.slice(0, 400);
  const tail = problem.slice(-150);
  return `${head}… (${problem.length - head.length - tail.length} characters omitted) …${tail}`;
}
