import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const root = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function importsOf(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) importsOf(path).forEach((name) => found.add(name));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      for (const [, specifier] of readFileSync(path, 'utf8').matchAll(/from '([^'.][^']*)'/g)) {
        const parts = specifier.split('/');
        found.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
      }
    }
  }
  return found;
}

describe('package.json', () => {
  it('declares every package the library imports as a dependency or peer dependency', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const undeclared = [...importsOf(join(root, 'src'))].filter((name) => !name.startsWith('node:') && !builtinModules.includes(name) && !declared.has(name));
    expect(undeclared).toEqual([]);
  });

  it('ships only dist (npm adds README and LICENSE), with types and Nest peer ranges', () => {
    expect(manifest.files).toEqual(['dist']);
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.peerDependencies['@nestjs/common']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.engines.node).toBe('>=20.19');
  });
});
