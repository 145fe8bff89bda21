/** Asserts that `fn` throws a ModelFileError whose message names `file` and matches `problem`. */
import assert from 'node:assert/strict';
import { ModelFileError } from '../../src/model/loading/errors';

export function expectFileError(fn: () => unknown, file: string, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message "${e.message}" should name ${file}`);
    assert.match(e.message, problem);
    return true;
  });
}
