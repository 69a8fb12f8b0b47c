import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..', '..');

/**
 * src/ transpiled to CommonJS JavaScript, as `npm run build` lays out dist/cjs (each file on its own, no type check:
 * `npm run typecheck` does that), in a folder under node_modules/.cache so the repository's packages resolve from
 * it. A spec that runs the library in a child process runs `node <dir>/cli/main.js` like a user runs the built
 * command: a fraction of a second per process, where ts-node took two seconds to transpile src/ again each time.
 * Call `remove()` when done.
 */
export function transpiledSources(): { dir: string; remove(): void } {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'nestjs-aws-sts-src-'));
  const { options } = ts.convertCompilerOptionsFromJson(
    { module: 'commonjs', target: 'ES2022', esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true },
    root,
  );
  const sources = (readdirSync(join(root, 'src'), { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
  for (const file of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, 'src', file), 'utf8'), { compilerOptions: options, fileName: file });
    const target = join(dir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
