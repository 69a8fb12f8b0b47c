import { blockSource, typeScriptBlocks } from '../support/readme-blocks';

// How the docs' TypeScript blocks are read and written for the compiler (test/support/readme-blocks.ts), which
// test/docs/docs-compile.spec.ts and test/package/readme.spec.ts rely on.

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
