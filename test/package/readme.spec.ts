import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';
import { blockSource, blockTitle, typeScriptBlocks, type BlockSource, type ReadmeBlock } from '../support/readme-blocks';
import { packedTarball } from '../support/packed-package';

/*
 * "The README compiles": every TypeScript block of README.md and docs/testing.md is type-checked, as a user's file, against the package
 * an app installs — the tarball `npm pack` made (test/support/global-setup.ts), unpacked into an app's node_modules.
 * All blocks go through one program, with the settings of a strict Nest app (ES modules, resolved like a bundler, so
 * `import` picks the package's ESM types through its `exports`).
 */

const root = join(__dirname, '..', '..');
/** The Markdown files whose examples are checked, and the prefix of their blocks' default file names. */
const MARKDOWN = [
  { file: 'README.md', prefix: 'readme' },
  { file: 'docs/testing.md', prefix: 'docs-testing' },
];
/** The Markdown file each block comes from. */
const markdownOf = new Map<ReadmeBlock, string>();
const readme = MARKDOWN.flatMap(({ file, prefix }) =>
  typeScriptBlocks(readFileSync(join(root, file), 'utf8'), file).map((block) => {
    const named = { ...block, fileName: block.fileName ?? `${prefix}-line-${block.line}.ts` };
    markdownOf.set(named, file);
    return named;
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

const compilerOptions: ts.CompilerOptions = {
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  skipLibCheck: true,
  isolatedModules: true,
  esModuleInterop: true,
  forceConsistentCasingInFileNames: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: ['node'],
  noEmit: true,
};

/** An app directory: the packed package in its node_modules, the repository's node_modules (Nest, the SDK) above it. */
function createApp(): { dir: string; app: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-readme-'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const app = join(dir, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  execFileSync('tar', ['-xzf', packedTarball(), '-C', modules]);
  renameSync(join(modules, 'package'), join(modules, 'nestjs-aws-sts'));
  return { dir, app };
}

/** One line per diagnostic: where it is in the Markdown (in the block, or in the prelude before it), its code and its message. */
function describeDiagnostic(diagnostic: ts.Diagnostic, block: ReadmeBlock, source: BlockSource, markdown: string): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const position = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
  const inMarkdown = position && source.markdownPosition(position.line, position.character);
  const where = inMarkdown ? `${markdown}:${inMarkdown.line}:${inMarkdown.column}` : `${markdown}:${block.directivesLine ?? block.line} (prelude)`;
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
      { line: 12, heading: 'Usage', code: 'a + 1;', indent: 2, prelude: 'declare const a: number;', directivesLine: 8, fileName: undefined, skipReason: 'needs a network' },
    ]);
  });

  it('refuses a directive that is not right before a code block, or that it does not know', () => {
    expect(() => typeScriptBlocks('<!-- prelude: declare const a: number; -->\nSome prose.\n```ts\na;\n```', 'x.md')).toThrow('x.md:1: directives must come right before a code block');
    expect(() => typeScriptBlocks('<!-- readme-check: skip -->\n```ts\na;\n```', 'x.md')).toThrow('x.md:1: unknown directive');
  });
});

describe('README.md compiles against the packed package', () => {
  let dir: string;
  let program: ts.Program;
  const diagnostics = new Map<ReadmeBlock, string[]>();

  beforeAll(() => {
    let app: string;
    ({ dir, app } = createApp());
    const sources = new Map<ReadmeBlock, BlockSource>([...readme, canary].map((block) => [block, blockSource(block)]));
    const files = [...sources.values()].map((source) => join(app, source.fileName));
    const duplicate = files.find((file, index) => files.indexOf(file) !== index);
    if (duplicate) throw new Error(`two blocks are checked as ${duplicate}: give one another "readme-check: file" name`);
    for (const source of sources.values()) writeFileSync(join(app, source.fileName), source.text);

    program = ts.createProgram(files, { ...compilerOptions, typeRoots: [join(dir, 'node_modules', '@types')] });
    for (const [block, source] of sources) {
      const file = program.getSourceFile(join(app, source.fileName));
      if (!file) throw new Error(`${source.fileName} is not in the program`);
      const found = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      diagnostics.set(block, found.map((diagnostic) => describeDiagnostic(diagnostic, block, source, markdownOf.get(block) ?? 'canary.md')));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves nestjs-aws-sts to the ESM types of the packed package, not to src/', () => {
    const files = program.getSourceFiles().map((file) => file.fileName);
    expect(files).toContain(join(dir, 'app/node_modules/nestjs-aws-sts/dist/esm/index.d.ts'));
    const wrongBuild = files.filter((file) => file.startsWith(join(root, 'src')) || file.startsWith(join(root, 'dist')) || file.includes('/nestjs-aws-sts/dist/cjs/'));
    expect(wrongBuild).toEqual([]);
    expect([...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))).toEqual([]);
  });

  it('reports a broken example with its line and the compiler message (canary)', () => {
    expect(diagnostics.get(canary)).toEqual(['canary.md:7:24 TS2554: Expected 0 arguments, but got 1.']);
  });

  it.each(checked.map((block) => [blockTitle(block, markdownOf.get(block)), block] as const))('%s', (_title, block) => {
    expect(diagnostics.get(block)).toEqual([]);
  });

  if (skipped.length) {
    it.skip.each(skipped.map((block) => [blockTitle(block, markdownOf.get(block))] as const))('%s', () => undefined);
  }
});
