import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every `dist/….d.ts` path of the manifest (`types`, `typesVersions`, the `types` conditions of `exports`) as its `.ts` twin. */
function pointTypesAtSources(value: unknown): unknown {
  if (typeof value === 'string') return /^\.?\/?dist\/.*\.d\.ts$/.test(value) ? value.replace(/\.d\.ts$/, '.ts') : value;
  if (Array.isArray(value)) return value.map(pointTypesAtSources);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, pointTypesAtSources(entry)]));
  return value;
}

/**
 * Installs the library's sources as `nestjs-aws-sts` in an app's `node_modules` folder (`modules`), laid out as the
 * packed package is, without building or packing anything: `src/` copied as `dist/cjs` and as `dist/esm`, each
 * marked with its module system as scripts/mark-module-types.cjs marks the build, and the repository's package.json
 * (its `exports` subpaths and conditions) with every declaration file it names read as the `.ts` file it is built
 * from. TypeScript then resolves `nestjs-aws-sts`, `nestjs-aws-sts/testing`, `nestjs-aws-sts/terminus` exactly as in
 * an app, to the CommonJS sources from a CommonJS app and to the same sources read as ES modules from an ES module app.
 */
export function installSourcePackage(modules: string): void {
  const installed = join(modules, 'nestjs-aws-sts');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as object;
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(installed, 'package.json'), JSON.stringify(pointTypesAtSources(manifest)));
  for (const [build, type] of [
    ['cjs', 'commonjs'],
    ['esm', 'module'],
  ]) {
    cpSync(join(root, 'src'), join(installed, 'dist', build), { recursive: true });
    writeFileSync(join(installed, 'dist', build, 'package.json'), JSON.stringify({ type }));
  }
}
