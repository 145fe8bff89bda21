/** The bundled model, loaded once per test process: what the end-to-end tests compare the workbench's views with. */
import * as path from 'node:path';
import { loadModelFolder, type LoadedModel } from '../../src/model';
import { REPO_ROOT } from './codeServer';

let lm: LoadedModel | undefined;

export function bundledModel(): LoadedModel {
  return (lm ??= loadModelFolder(path.join(REPO_ROOT, 'media', 'model')));
}
