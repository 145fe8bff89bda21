/** Every problem with user-supplied model files surfaces as this error, naming the file and what is wrong with it. */
export class ModelFileError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFileError';
  }
}
