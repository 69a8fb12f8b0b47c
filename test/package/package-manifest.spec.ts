import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { PACKAGE_VERSION } from '../../src/observability/version';
import { packedTarball } from '../support/packed-package';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function importsOf(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) importsOf(path).forEach((name) => found.add(name));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
      for (const [, specifier] of readFileSync(path, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^'.][^']*)'/gm)) {
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
    const undeclared = [...importsOf(join(root, 'src'))].filter(
      (name) => !name.startsWith('node:') && !builtinModules.includes(name) && !declared.has(name),
    );
    expect(undeclared).toEqual([]);
  });

  it('names its own version in src/observability/version.ts (the OpenTelemetry meter reports it)', () => {
    expect(PACKAGE_VERSION).toBe(manifest.version);
  });

  it('lets .npmignore say what ships, an ESM and a CommonJS entry each with its types, and Nest peer ranges', () => {
    // A `files` list would override the root .npmignore (npm reads that one only without it).
    expect(manifest.files).toBeUndefined();
    expect(manifest.type).toBe('commonjs');
    expect(manifest.exports['.']).toEqual({
      import: { types: './dist/esm/index.d.ts', default: './dist/esm/index.js' },
      require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' },
    });
    expect(manifest.peerDependencies['@nestjs/common']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.engines.node).toBe('>=20.19');
  });

  it('exports nestjs-aws-sts/terminus (both builds, and its types for node10 resolution) with @nestjs/terminus an optional peer', () => {
    expect(Object.keys(manifest.exports)).toEqual(['.', './terminus', './testing', './package.json']);
    expect(manifest.exports['./terminus']).toEqual({
      import: { types: './dist/esm/terminus/index.d.ts', default: './dist/esm/terminus/index.js' },
      require: { types: './dist/cjs/terminus/index.d.ts', default: './dist/cjs/terminus/index.js' },
    });
    // TypeScript's node10 resolution (`"module": "commonjs"` without moduleResolution) does not read `exports`.
    expect(manifest.typesVersions['*'].terminus).toEqual(['./dist/cjs/terminus/index.d.ts']);
    expect(manifest.peerDependencies['@nestjs/terminus']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.peerDependenciesMeta['@nestjs/terminus']).toEqual({ optional: true });
    expect(manifest.dependencies['@nestjs/terminus']).toBeUndefined();
  });

  it('exports nestjs-aws-sts/testing (both builds, and its types for node10 resolution) needing no test-only dependency', () => {
    expect(manifest.exports['./testing']).toEqual({
      import: { types: './dist/esm/testing/index.d.ts', default: './dist/esm/testing/index.js' },
      require: { types: './dist/cjs/testing/index.d.ts', default: './dist/cjs/testing/index.js' },
    });
    expect(manifest.typesVersions).toEqual({
      '*': { terminus: ['./dist/cjs/terminus/index.d.ts'], testing: ['./dist/cjs/testing/index.d.ts'] },
    });
    // The local STS verifies signatures with @smithy/signature-v4, which @aws-sdk/client-sts installs anyway.
    expect(manifest.dependencies['@smithy/signature-v4']).toBe('^5.3.2');
    expect([...importsOf(join(root, 'src', 'testing'))].sort()).toEqual([
      '@aws-sdk/client-sts',
      '@aws-sdk/types',
      '@smithy/signature-v4',
      'node:crypto',
      'node:http',
      'node:net',
      'rxjs',
    ]);
  });

  it('takes nestjs-cls as an optional peer (>=6: 7 needs Node 22), tested on an exact 6.x, and never imports it statically', () => {
    expect(manifest.peerDependencies['nestjs-cls']).toBe('>=6');
    expect(manifest.peerDependenciesMeta['nestjs-cls']).toEqual({ optional: true });
    expect(manifest.devDependencies['nestjs-cls']).toMatch(/^6\.\d+\.\d+$/);
    expect(manifest.dependencies['nestjs-cls']).toBeUndefined();
    // An app without nestjs-cls must load every module of the library: only a dynamic import() may name it.
    expect(importsOf(join(root, 'src')).has('nestjs-cls')).toBe(false);
    expect(Object.keys(manifest.peerDependenciesMeta).sort()).toEqual(['@nestjs/terminus', 'nestjs-cls']);
  });
});

describe('the packed package', () => {
  const tarball = packedTarball();
  const bin = (name: string) => join(root, 'node_modules', '.bin', name);
  /** Runs a checker on the tarball; returns its output, or fails with it when the checker reports a problem. */
  const check = (command: string, args: string[]) => {
    try {
      return execFileSync(bin(command), [...args, tarball], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const { stdout, stderr } = error as { stdout: string; stderr: string };
      throw new Error(`${command} reported problems:\n${stdout}${stderr}`, { cause: error });
    }
  };

  it('passes publint with no error, warning or suggestion', () => {
    expect(check('publint', ['--level', 'suggestion', '--strict'])).toContain('All good!');
  });

  it('resolves with correct types under every module resolution (@arethetypeswrong/cli)', () => {
    expect(check('attw', ['--format', 'ascii'])).toContain('No problems found');
  }, 60_000);

  it('names the file of every relative import in the ES module build, as Node requires', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    const esmFiles = listing.filter((file) => /^package\/dist\/esm\/.*\.js$/.test(file));
    expect(esmFiles.length).toBeGreaterThan(10);
    const bare = esmFiles.flatMap((file) => {
      const code = execFileSync('tar', ['-xzOf', tarball, file], { encoding: 'utf8' });
      return [...code.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']*)'/g)]
        .map(([, specifier]) => specifier)
        .filter((specifier) => !specifier.endsWith('.js'))
        .map((specifier) => `${file}: ${specifier}`);
    });
    expect(bare).toEqual([]);
  });

  it('exports exactly the names docs/reference/exports.md documents, from each entry', () => {
    const section = readFileSync(join(root, 'docs', 'reference', 'exports.md'), 'utf8');
    const [main, rest] = section.split('And from `nestjs-aws-sts/terminus`');
    const [terminus, testing] = rest.split('And from `nestjs-aws-sts/testing`');
    const documented = (table: string) =>
      [...table.matchAll(/^\| (.+?) \|/gm)]
        .flatMap(([, cell]) => [...cell.matchAll(/`(\w+)(?:\(\))?`/g)].map(([, name]) => name))
        .filter((name) => name !== 'name')
        .sort();
    const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-exports-'));
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      const exported = (entry: string) => {
        const program = ts.createProgram([join(dir, 'package', 'dist', 'esm', entry)], {
          module: ts.ModuleKind.ESNext,
          moduleResolution: ts.ModuleResolutionKind.Bundler,
          skipLibCheck: true,
          noEmit: true,
        });
        const checker = program.getTypeChecker();
        const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(dir, 'package', 'dist', 'esm', entry))!)!;
        return checker
          .getExportsOfModule(symbol)
          .map((exportedSymbol) => exportedSymbol.name)
          .sort();
      };
      expect(exported('index.d.ts')).toEqual(documented(main));
      expect(exported('terminus/index.d.ts')).toEqual(documented(terminus));
      expect(exported('testing/index.d.ts')).toEqual(documented(testing));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds exactly the builds, their TypeScript sources, package.json, README.md and LICENSE (.npmignore)', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect([...new Set(files.map((file) => file.split('/')[1]))].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json', 'src']);
    // Every source the maps point at, and nothing else of src/: its folder notes are for contributors.
    const sources = (readdirSync(join(root, 'src'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .map((file) => `package/src/${file}`);
    expect(files.filter((file) => file.startsWith('package/src/')).sort()).toEqual(sources.sort());
    expect(files.filter((file) => file.endsWith('.md'))).toEqual(['package/README.md']);
    expect(readFileSync(join(root, 'src', 'errors', 'README.md'), 'utf8')).toMatch(/^# errors/);
  });

  it('holds both builds with source maps, declaration maps and the sources they point at', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const build of ['esm', 'cjs']) {
      for (const suffix of ['index.js', 'index.js.map', 'index.d.ts', 'index.d.ts.map', 'package.json'])
        expect(files).toContain(`package/dist/${build}/${suffix}`);
    }
    const map = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/dist/esm/module/sts.service.js.map'], { encoding: 'utf8' }));
    expect(map.sources).toEqual(['../../../src/module/sts.service.ts']);
    expect(files).toContain('package/src/module/sts.service.ts');
    expect(files.filter((file) => file.startsWith('package/test/'))).toEqual([]);
    for (const build of ['esm', 'cjs']) {
      for (const suffix of ['index.js', 'index.js.map', 'index.d.ts', 'index.d.ts.map', 'sts-health.indicator.js'])
        expect(files).toContain(`package/dist/${build}/terminus/${suffix}`);
      for (const suffix of ['index.js', 'index.d.ts', 'local-sts/local-sts-server.js'])
        expect(files).toContain(`package/dist/${build}/testing/${suffix}`);
    }
  });

  it('ships the command line: bin nestjs-aws-sts → a CommonJS build with a shebang, executable, that runs (--help, exit 0)', () => {
    expect(manifest.bin).toEqual({ 'nestjs-aws-sts': 'dist/cjs/cli/main.js' });
    const listing = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(listing.find((line) => line.endsWith(' package/dist/cjs/cli/main.js'))).toMatch(/^-rwxr-xr-x/);
    expect(listing.filter((line) => line.includes('package/dist/esm/cli/'))).toEqual([]);
    // Inside the repository's node_modules, so the extracted build resolves its dependencies as an install would.
    const dir = mkdtempSync(join(root, 'node_modules', '.cli-'));
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      const main = join(dir, 'package', 'dist', 'cjs', 'cli', 'main.js');
      expect(readFileSync(main, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
      expect(readFileSync(join(dir, 'package', 'dist', 'cjs', 'package.json'), 'utf8')).toContain('"commonjs"');
      const help = execFileSync(process.execPath, [main, '--help'], {
        encoding: 'utf8',
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
      expect(help).toContain('Usage: nestjs-aws-sts <command>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('loads the testing kit only from the testing subpath, which shares its build with the main entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-manifest-'));
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      const dist = join(dir, 'package', 'dist');
      const outsideTesting = (readdirSync(dist, { recursive: true }) as string[]).filter(
        (file) => /\.js$/.test(file) && !/^(cjs|esm)\/testing\//.test(file),
      );
      expect(outsideTesting.filter((file) => /testing\//.test(readFileSync(join(dist, file), 'utf8')))).toEqual([]);
      // The fakes build the StsError and TemporaryCredentials of the app's own build (the dual-package hazard).
      expect(readFileSync(join(dist, 'cjs', 'testing', 'fake-sts-service.js'), 'utf8')).toContain('require("../errors/sts-error.js")');
      expect(readFileSync(join(dist, 'esm', 'testing', 'fake-sts-service.js'), 'utf8')).toContain("from '../errors/sts-error.js'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads @nestjs/terminus only from the terminus subpath, which shares its build with the main entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-manifest-'));
    try {
      execFileSync('tar', ['-xzf', tarball, '-C', dir]);
      const dist = join(dir, 'package', 'dist');
      const loadingTerminus = (readdirSync(dist, { recursive: true }) as string[])
        .filter((file) => /\.(js|d\.ts)$/.test(file))
        .filter((file) => /require\("@nestjs\/terminus"\)|from '@nestjs\/terminus'/.test(readFileSync(join(dist, file), 'utf8')))
        .sort();
      expect(loadingTerminus).toEqual(
        ['cjs', 'esm']
          .flatMap((build) => [`${build}/terminus/sts-health.indicator.d.ts`, `${build}/terminus/sts-health.indicator.js`])
          .sort(),
      );
      // The indicator injects the StsService of its own build (one class per build: the dual-package hazard).
      expect(readFileSync(join(dist, 'cjs', 'terminus', 'sts-health.indicator.js'), 'utf8')).toContain(
        'require("../module/sts.service.js")',
      );
      expect(readFileSync(join(dist, 'esm', 'terminus', 'sts-health.indicator.js'), 'utf8')).toContain("from '../module/sts.service.js'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
