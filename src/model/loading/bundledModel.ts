/** Locates the checkpoint shipped inside the package (media/model), from source (tsx) or from the dist bundle. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function findBundledModel(startDir: string = __dirname): string {
  for (let dir = startDir, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'media', 'model');
    if (fs.existsSync(path.join(candidate, 'config.json'))) return candidate;
  }
  throw new Error(`the bundled model (media/model) was not found above ${startDir}`);
}
