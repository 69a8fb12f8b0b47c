import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ts from 'typescript';
import {
  blockSource,
  blockTitle,
  typeScriptBlocks,
  type BlockSource,
  type ModuleKindOfApp,
  type ReadmeBlock,
} from '../support/readme-blocks';
import { packedTarball } from '../support/packed-package';

/*
 * "The docs compile": every TypeScript block of README.md and of every page under docs/ is type-checked, as a user's
 * file, against the package an app installs — the tarball `npm pack` made (test/support/global-setup.ts), unpacked
 * into an app's node_modules — twice: in a CommonJS app (a Nest 11 app's `module: commonjs`, where top-level `await`
 * is refused) and in an ES module app (`"type": "module"`, `module: nodenext`, as a Nest 12 app; relative imports
 * checked as `./app.module.js`). All blocks of one kind of app go through one program, with a strict Nest app's settings.
 */

const root = join(__dirname, '..', '..');
/** Every Markdown file under docs/, in a stable order. */
const docsPages = (readdirSync(join(root, 'docs'), { recursive: true }) as string[])
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`)
  .sort();
/** The Markdown files whose examples are checked, and the prefix of their blocks' default file names. */
const MARKDOWN = ['README.md', ...docsPages].map((file) => ({
  file,
  prefix: file.replace(/\.md$/, '').replace(/[/.]/g, '-').toLowerCase(),
}));
/** The Markdown file each block comes from, and the file name it is checked under. */
const markdownOf = new Map<ReadmeBlock, string>();
const fileNameOf = new Map<ReadmeBlock, string>();
const readme = MARKDOWN.flatMap(({ file, prefix }) =>
  typeScriptBlocks(readFileSync(join(root, file), 'utf8'), file).map((block) => {
    markdownOf.set(block, file);
    fileNameOf.set(block, block.fileName ?? `${prefix}-line-${block.line}.ts`);
    return block;
  }),
);
const checked = readme.filter((block) => !block.skipReason);
const skipped = readme.filter((block) => block.skipReason);

/** A broken example, checked with the README's blocks: proves that an error is found and mapped to its line. */
const canary: ReadmeBlock = typeScriptBlocks(
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
)[0];

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

/** An app directory: the packed package in its node_modules, the repository's node_modules (Nest, the SDK) above it. */
function createApp(packageJson: object): { dir: string; app: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-readme-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const app = join(dir, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  execFileSync('tar', ['-xzf', packedTarball(), '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'nestjs-aws-sts'));
  writeFileSync(join(app, 'package.json'), JSON.stringify(packageJson));
  return { dir, app };
}

/** One line per diagnostic: where it is in the Markdown (in the block, or in the prelude before it), its code and its message. */
function describeDiagnostic(diagnostic: ts.Diagnostic, block: ReadmeBlock, source: BlockSource, markdown: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const position =
    diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
  const inMarkdown = position && source.markdownPosition(position.line, position.character);
  const where = inMarkdown
    ? `${markdown}:${inMarkdown.line}:${inMarkdown.column}`
    : `${markdown}:${block.directivesLine ?? block.line} (prelude)`;
  return `${where} TS${diagnostic.code}: ${message}`;
}

describe('typeScriptBlocks (how the README is read)', () => {
  it('finds TypeScript blocks with their heading, line, indentation and directives, and passes over other languages', () => {
    const markdown = [
      '# Title',
      '```bash',
      '# not a heading',
      '```',
      '## Usage',
      '- an item',
      '',
      '  <!-- prelude:',
      '  declare const a: number;',
      '  -->',
      '  <!-- readme-check: skip (needs a network) -->',
      '  ```typescript',
      '  a + 1;',
      '  ```',
    ].join('\n');
    expect(typeScriptBlocks(markdown)).toEqual([
      {
        line: 12,
        heading: 'Usage',
        code: 'a + 1;',
        indent: 2,
        prelude: 'declare const a: number;',
        directivesLine: 8,
        fileName: undefined,
        skipReason: 'needs a network',
      },
    ]);
  });

  it('refuses a directive that is not right before a code block, or that it does not know', () => {
    expect(() => typeScriptBlocks('<!-- prelude: declare const a: number; -->\nSome prose.\n```ts\na;\n```', 'x.md')).toThrow(
      'x.md:1: directives must come right before a code block',
    );
    expect(() => typeScriptBlocks('<!-- readme-check: skip -->\n```ts\na;\n```', 'x.md')).toThrow('x.md:1: unknown directive');
  });
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a Markdown file's headings (not of `#` lines inside code blocks). */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (heading) anchors.add(anchorOf(heading[1]));
  }
  return anchors;
}

describe('links between README.md and docs/', () => {
  it('point at files and headings that exist', () => {
    const broken = MARKDOWN.flatMap(({ file }) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
        .map(([, target]) => target)
        .filter((target) => !/^(https?|mailto):/.test(target))
        .filter((target) => {
          const [path, anchor] = target.split('#');
          const linked = path ? join(root, dirname(file), path) : join(root, file);
          if (!existsSync(linked)) return true;
          return anchor !== undefined && linked.endsWith('.md') && !anchorsOf(readFileSync(linked, 'utf8')).has(anchor);
        })
        .map((target) => `${file}: ${target}`),
    );
    expect(broken).toEqual([]);
  });
});

describe('blockSource (how a block is written for each kind of app)', () => {
  const [fragment, file] = typeScriptBlocks(
    [
      '<!-- prelude: declare const sts: { getAccountId(): Promise<string> }; -->',
      '```ts',
      "import { AppModule } from './app.module';",
      'const id = await sts.getAccountId();',
      '```',
      '<!-- readme-check: file main.ts -->',
      '```ts',
      "import { AppModule } from './app.module.js';",
      'await sts.getAccountId();',
      '```',
    ].join('\n'),
  );

  it('names relative imports in full in an ES module, and leaves the rest of each line where it was', () => {
    expect(blockSource(fragment, 'esm').text.split('\n')).toEqual([
      'declare const sts: { getAccountId(): Promise<string> };',
      "import { AppModule } from './app.module.js';",
      'const id = await sts.getAccountId();',
      'export {};',
    ]);
    expect(blockSource(file, 'esm').text).toContain("from './app.module.js';");
  });

  it('checks a fragment that awaits at the top level as an async function body in CommonJS, but never a whole file', () => {
    expect(blockSource(fragment, 'commonjs').text.split('\n')).toEqual([
      'declare const sts: { getAccountId(): Promise<string> };',
      "import { AppModule } from './app.module'; async function fragment(): Promise<void> {",
      'const id = await sts.getAccountId();',
      '}',
      'export {};',
    ]);
    expect(blockSource(fragment, 'commonjs').markdownPosition(2, 0)).toEqual({ line: 4, column: 1 });
    expect(blockSource(file, 'commonjs').text).toBe("import { AppModule } from './app.module.js';\nawait sts.getAccountId();\nexport {};");
  });
});

describe.each(KINDS)('README.md and docs/ compile against the packed package, in $title', ({ kind, options, packageJson, build }) => {
  let dir: string;
  let program: ts.Program;
  const diagnostics = new Map<ReadmeBlock, string[]>();

  beforeAll(() => {
    let app: string;
    ({ dir, app } = createApp(packageJson));
    const sources = new Map<ReadmeBlock, BlockSource>(
      [...readme, canary].map((block) => [block, blockSource(block, kind, fileNameOf.get(block))]),
    );
    const files = [...sources.values()].map((source) => join(app, source.fileName));
    const duplicate = files.find((file, index) => files.indexOf(file) !== index);
    if (duplicate) throw new Error(`two blocks are checked as ${duplicate}: give one another "readme-check: file" name`);
    for (const source of sources.values()) writeFileSync(join(app, source.fileName), source.text);

    program = ts.createProgram(files, { ...options, typeRoots: [join(dir, 'node_modules', '@types')] });
    for (const [block, source] of sources) {
      const file = program.getSourceFile(join(app, source.fileName));
      if (!file) throw new Error(`${source.fileName} is not in the program`);
      const found = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      diagnostics.set(
        block,
        found.map((diagnostic) => describeDiagnostic(diagnostic, block, source, markdownOf.get(block) ?? 'canary.md')),
      );
    }
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`resolves nestjs-aws-sts to the ${build} types of the packed package, not to src/`, () => {
    const files = program.getSourceFiles().map((file) => file.fileName);
    expect(files).toContain(join(dir, `app/node_modules/nestjs-aws-sts/dist/${build}/index.d.ts`));
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

  it.each(checked.map((block) => [blockTitle(block, markdownOf.get(block)), block] as const))('%s', (_title, block) => {
    expect(diagnostics.get(block)).toEqual([]);
  });

  if (skipped.length) {
    it.skip.each(skipped.map((block) => [blockTitle(block, markdownOf.get(block))] as const))('%s', () => undefined);
  }
});
