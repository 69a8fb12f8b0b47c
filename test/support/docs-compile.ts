import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { blockSource, blockTitle, typeScriptBlocks, type BlockSource, type ModuleKindOfApp, type ReadmeBlock } from './readme-blocks';

/*
 * "The docs compile": every TypeScript block of README.md and of every page under docs/ is type-checked, as a user's
 * file, against `nestjs-aws-sts` installed in an app's node_modules, twice: in a CommonJS app (a Nest 11 app's
 * `module: commonjs`, where top-level `await` is refused) and in an ES module app (`"type": "module"`,
 * `module: nodenext`, as a Nest 12 app; relative imports checked as `./app.module.js`). All blocks of one kind of app
 * go through one program, with a strict Nest app's settings.
 *
 * Two specs run it: test/docs/docs-compile.spec.ts (`npm test`) against the sources laid out as the package
 * (test/support/source-package.ts), and test/package/readme.spec.ts (`npm run test:package`) against the packed tarball.
 */

const root = join(__dirname, '..', '..');

/** README.md and every Markdown file under docs/, in a stable order (paths from the repository's root). */
export function markdownFiles(): string[] {
  const pages = (readdirSync(join(root, 'docs'), { recursive: true }) as string[]).filter((file) => file.endsWith('.md'));
  return ['README.md', ...pages.map((file) => `docs/${file}`).sort()];
}

/** A block of the docs: the Markdown file it comes from, and the file name it is checked under. */
interface DocsBlock {
  block: ReadmeBlock;
  markdown: string;
  fileName: string;
}

/** Every TypeScript block of the docs; a block without a `readme-check: file` name is named after its file and line. */
function docsBlocks(): DocsBlock[] {
  return markdownFiles().flatMap((markdown) => {
    const prefix = markdown.replace(/\.md$/, '').replace(/[/.]/g, '-').toLowerCase();
    return typeScriptBlocks(readFileSync(join(root, markdown), 'utf8'), markdown).map((block) => ({
      block,
      markdown,
      fileName: block.fileName ?? `${prefix}-line-${block.line}.ts`,
    }));
  });
}

/** A broken example, checked with the docs' blocks: proves that an error is found and mapped to its line. */
const canary: DocsBlock = {
  block: typeScriptBlocks(
    [
      '## Canary',
      '',
      "<!-- prelude: import { StsService } from 'nestjs-aws-sts'; declare const sts: StsService; -->",
      '<!-- readme-check: file canary.ts -->',
      '```ts',
      'const id: string = await sts.getAccountId();',
      'await sts.getAccountId(42);',
      '```',
    ].join('\n'),
    'canary.md',
  )[0],
  markdown: 'canary.md',
  fileName: 'canary.ts',
};

const common: ts.CompilerOptions = {
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  isolatedModules: true,
  esModuleInterop: true,
  forceConsistentCasingInFileNames: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  noEmit: true,
};

/** The two kinds of app: their compiler settings, their package.json, and the build of the package they must get. */
const KINDS: { kind: ModuleKindOfApp; title: string; options: ts.CompilerOptions; packageJson: object; build: 'cjs' | 'esm' }[] = [
  {
    kind: 'commonjs',
    title: 'a CommonJS app (Nest 11 template)',
    options: { ...common, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Bundler },
    packageJson: { name: 'app', private: true },
    build: 'cjs',
  },
  {
    kind: 'esm',
    title: 'an ES module app (Nest 12)',
    options: { ...common, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    packageJson: { name: 'app', private: true, type: 'module' },
    build: 'esm',
  },
];

/** What the docs are compiled against: how `nestjs-aws-sts` gets into an app, and the file it must resolve to. */
export interface LibraryUnderTest {
  /** What it is, for the test titles (e.g. 'the packed package'). */
  what: string;
  /** Puts `nestjs-aws-sts` into an app's node_modules folder. */
  install(modules: string): void;
  /** The file `import ... from 'nestjs-aws-sts'` resolves to in an app of a build, relative to the installed package. */
  entry(build: 'cjs' | 'esm'): string;
  /**
   * The spec's own assertions on what the program read of the installed package (`installed`: its folder; `files`:
   * every file of the program), for a build: that it is the library this spec means to check.
   */
  expectInstalled(build: 'cjs' | 'esm', installed: string, files: string[]): void;
}

/** An app directory: the library in its node_modules, the repository's node_modules (Nest, the SDK) above it. */
function createApp(library: LibraryUnderTest, packageJson: object): { dir: string; app: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-docs-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const app = join(dir, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  library.install(modules);
  writeFileSync(join(app, 'package.json'), JSON.stringify(packageJson));
  return { dir, app };
}

/**
 * The declaration files of the repository's node_modules (Node's, Nest's, the SDK's types: most of each program),
 * parsed once and shared by the programs of both kinds of app. A file is parsed anew when it is read in another
 * module format, which TypeScript sets from its package.json, not from the app.
 */
const parsedDeclarations = new Map<string, ts.SourceFile>();

/** TypeScript's own compiler host, but for the repository's declaration files, taken from `parsedDeclarations`. */
function compilerHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const parse = host.getSourceFile;
  host.getSourceFile = (fileName, languageVersionOrOptions, ...rest) => {
    if (!fileName.startsWith(join(root, 'node_modules')) || !fileName.endsWith('.d.ts'))
      return parse(fileName, languageVersionOrOptions, ...rest);
    const { languageVersion, impliedNodeFormat } =
      typeof languageVersionOrOptions === 'object' ? languageVersionOrOptions : { languageVersion: languageVersionOrOptions };
    const key = `${languageVersion}:${impliedNodeFormat}:${fileName}`;
    let file = parsedDeclarations.get(key);
    if (!file) {
      file = parse(fileName, languageVersionOrOptions, ...rest);
      if (file) parsedDeclarations.set(key, file);
    }
    return file;
  };
  return host;
}

/** One line per diagnostic: where it is in the Markdown (in the block, or in the prelude before it), its code and its message. */
function describeDiagnostic(diagnostic: ts.Diagnostic, { block, markdown }: DocsBlock, source: BlockSource): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const position =
    diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
  const inMarkdown = position && source.markdownPosition(position.line, position.character);
  const where = inMarkdown
    ? `${markdown}:${inMarkdown.line}:${inMarkdown.column}`
    : `${markdown}:${block.directivesLine ?? block.line} (prelude)`;
  return `${where} TS${diagnostic.code}: ${message}`;
}

/** Registers the specs: every block of the docs, and the canary, compiled against `library` in each kind of app. */
export function describeDocsCompile(library: LibraryUnderTest): void {
  const blocks = docsBlocks();
  const checked = blocks.filter(({ block }) => !block.skipReason);
  const skipped = blocks.filter(({ block }) => block.skipReason);
  const titled = (list: DocsBlock[]) => list.map((docsBlock) => [blockTitle(docsBlock.block, docsBlock.markdown), docsBlock] as const);

  describe.each(KINDS)(`README.md and docs/ compile against ${library.what}, in $title`, ({ kind, options, packageJson, build }) => {
    let dir: string;
    let program: ts.Program;
    const diagnostics = new Map<DocsBlock, string[]>();

    beforeAll(() => {
      let app: string;
      ({ dir, app } = createApp(library, packageJson));
      const sources = new Map<DocsBlock, BlockSource>(
        [...blocks, canary].map((docsBlock) => [docsBlock, blockSource(docsBlock.block, kind, docsBlock.fileName)]),
      );
      const files = [...sources.values()].map((source) => join(app, source.fileName));
      const duplicate = files.find((file, index) => files.indexOf(file) !== index);
      if (duplicate) throw new Error(`two blocks are checked as ${duplicate}: give one another "readme-check: file" name`);
      for (const source of sources.values()) writeFileSync(join(app, source.fileName), source.text);

      const appOptions = { ...options, typeRoots: [join(dir, 'node_modules', '@types')] };
      program = ts.createProgram(files, appOptions, compilerHost(appOptions));
      for (const [docsBlock, source] of sources) {
        const file = program.getSourceFile(join(app, source.fileName));
        if (!file) throw new Error(`${source.fileName} is not in the program`);
        const found = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
        diagnostics.set(
          docsBlock,
          found.map((diagnostic) => describeDiagnostic(diagnostic, docsBlock, source)),
        );
      }
    }, 120_000);

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it(`resolves nestjs-aws-sts to ${library.entry(build)}, not to the repository's src/ or dist/, nor to the other build`, () => {
      const files = program.getSourceFiles().map((file) => file.fileName);
      const installed = join(dir, 'app', 'node_modules', 'nestjs-aws-sts');
      expect(files).toContain(join(installed, library.entry(build)));
      library.expectInstalled(build, installed, files);
      const other = build === 'esm' ? 'cjs' : 'esm';
      const wrongBuild = files.filter(
        (file) =>
          file.startsWith(join(root, 'src')) || file.startsWith(join(root, 'dist')) || file.includes(`/nestjs-aws-sts/dist/${other}/`),
      );
      expect(wrongBuild).toEqual([]);
      expect(
        [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((diagnostic) =>
          ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
        ),
      ).toEqual([]);
    });

    it('reports a broken example with its line and the compiler message (canary)', () => {
      // A block named as a file stands for a whole file: a CommonJS one may not await at its top level.
      const topLevelAwait = (line: number, column: number) =>
        `canary.md:${line}:${column} TS1378: Top-level 'await' expressions are only allowed when`;
      const expected = kind === 'commonjs' ? [topLevelAwait(6, 20), topLevelAwait(7, 1)] : [];
      const found = diagnostics.get(canary) ?? [];
      expect(found.filter((line) => line.includes('TS1378')).map((line) => line.slice(0, line.indexOf(' when') + 5))).toEqual(expected);
      expect(found.filter((line) => !line.includes('TS1378'))).toEqual(['canary.md:7:24 TS2554: Expected 0 arguments, but got 1.']);
    });

    it.each(titled(checked))('%s', (_title, docsBlock) => {
      expect(diagnostics.get(docsBlock)).toEqual([]);
    });

    if (skipped.length) it.skip.each(titled(skipped))('%s', () => undefined);
  });
}
