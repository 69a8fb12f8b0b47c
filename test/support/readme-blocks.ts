/**
 * The TypeScript examples of a Markdown file, ready to type-check: each fenced ```ts / ```typescript block with the
 * heading it sits under, its line in the file, and what the HTML comments right before it say about it:
 *
 * - `<!-- prelude: import { StsService } from 'nestjs-aws-sts'; declare const sts: StsService; -->` — code put before
 *   the block when it is checked (what a fragment uses but does not declare); invisible on GitHub. A comment may span
 *   lines, and a block may have several.
 * - `<!-- readme-check: file app.module.ts -->` — the name the block is checked under, so another block can import it
 *   (`from './app.module'`).
 * - `<!-- readme-check: skip (why) -->` — the block is not checked, and the reason is shown.
 *
 * A directive that is not right before a code block (only blank lines and other directives may come between) is an
 * error, so a comment left behind by an edit cannot silently stop applying.
 */
import * as ts from 'typescript';

/** One TypeScript example of the Markdown file. */
export interface ReadmeBlock {
  /** The 1-based line of the opening fence. */
  line: number;
  /** The text of the nearest heading above the block ('' before the first one). */
  heading: string;
  /** The block's code, without the indentation of its fence (blocks in list items are indented). */
  code: string;
  /** How many columns the fence is indented by. */
  indent: number;
  /** The code that `prelude:` comments put before the block ('' when none). */
  prelude: string;
  /** The line of the first directive comment before the block, if any. */
  directivesLine?: number;
  /** The file name from `readme-check: file`, if any. */
  fileName?: string;
  /** The reason from `readme-check: skip`, if the block is not to be checked. */
  skipReason?: string;
}

/** A block as the compiler sees it: its file name and text, and how to map a line of that text back to the Markdown. */
export interface BlockSource {
  fileName: string;
  text: string;
  /**
   * The 1-based Markdown line and column of a 0-based line and character of `text`, or undefined for the prelude and
   * the module footer.
   */
  markdownPosition(line: number, character: number): { line: number; column: number } | undefined;
}

const TYPESCRIPT = new Set(['ts', 'typescript']);
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^#{1,6}\s+(.*?)\s*#*\s*$/;

interface Directives {
  line: number;
  prelude: string[];
  fileName?: string;
  skipReason?: string;
}

/** Reads one `<!-- ... -->` comment's text into the pending directives; other comments are ignored. */
function addDirective(pending: Directives, text: string, line: number, source: string): void {
  const prelude = /^prelude:\s*([\s\S]*)$/.exec(text);
  if (prelude) {
    pending.prelude.push(prelude[1].trim());
    return;
  }
  const check = /^readme-check:\s*([\s\S]*)$/.exec(text);
  if (!check) return;
  const file = /^file\s+(\S+\.ts)$/.exec(check[1]);
  const skip = /^skip\s*\((.+)\)$/s.exec(check[1]);
  if (file) pending.fileName = file[1];
  else if (skip) pending.skipReason = skip[1].trim();
  else throw new Error(`${source}:${line}: unknown directive "readme-check: ${check[1]}" (expected "file <name>.ts" or "skip (<reason>)")`);
}

/**
 * Every TypeScript code block of a Markdown text, in order, with its heading, line and directives.
 * `source` names the text in error messages (e.g. 'README.md').
 */
export function typeScriptBlocks(markdown: string, source = 'README.md'): ReadmeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let pending: Directives | undefined;

  for (let index = 0; index < lines.length; index++) {
    const text = lines[index];
    const fence = FENCE.exec(text);
    if (fence) {
      const [, indent, marker, language] = fence;
      const start = index;
      const body: string[] = [];
      for (index++; index < lines.length && !lines[index].trimStart().startsWith(marker); index++) {
        body.push(lines[index].startsWith(indent) ? lines[index].slice(indent.length) : lines[index].trimStart());
      }
      const directives = pending;
      pending = undefined;
      if (!TYPESCRIPT.has(language.toLowerCase())) {
        if (directives)
          throw new Error(`${source}:${directives.line}: directives before a "${language || 'plain'}" block, which is not checked`);
        continue;
      }
      blocks.push({
        line: start + 1,
        heading,
        code: body.join('\n'),
        indent: indent.length,
        prelude: directives?.prelude.join('\n') ?? '',
        directivesLine: directives?.line,
        fileName: directives?.fileName,
        skipReason: directives?.skipReason,
      });
      continue;
    }

    if (text.trimStart().startsWith('<!--')) {
      const startLine = index + 1;
      let comment = text;
      while (!comment.includes('-->') && index + 1 < lines.length) comment += `\n${lines[++index]}`;
      const inner = comment.trim().replace(/^<!--/, '').replace(/-->$/, '').trim();
      pending ??= { line: startLine, prelude: [] };
      addDirective(pending, inner, startLine, source);
      if (pending.prelude.length === 0 && !pending.fileName && !pending.skipReason) pending = undefined;
      continue;
    }
    if (text.trim() === '') continue;

    if (pending) throw new Error(`${source}:${pending.line}: directives must come right before a code block`);
    const title = HEADING.exec(text);
    if (title) heading = title[1];
  }
  if (pending) throw new Error(`${source}:${pending.line}: directives must come right before a code block`);
  return blocks;
}

/** The two kinds of app a block is checked in. */
export type ModuleKindOfApp = 'commonjs' | 'esm';

/** The relative imports of a block without an extension (`./app.module`), which an ES module must name in full. */
const BARE_RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)(?<!\.(?:js|mjs|cjs|json))\2/g;

/** Whether code awaits outside any function: allowed in an ES module, refused by TypeScript in a CommonJS one. */
function awaitsAtTopLevel(code: string): boolean {
  const file = ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const visit = (node: ts.Node): boolean => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return false;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) return true;
    return ts.forEachChild(node, visit) ?? false;
  };
  return ts.forEachChild(file, visit) ?? false;
}

/** Where the leading import declarations of a block's code end (0 when it starts with something else). */
function endOfLeadingImports(code: string): number {
  const file = ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  let end = 0;
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isImportEqualsDeclaration(statement)) break;
    end = statement.end;
  }
  return end;
}

/**
 * The file the compiler checks for a block, named `fileName` (its `readme-check: file` name by default): its prelude,
 * its code, and `export {}` so that every block is a module (its names do not clash with other blocks').
 *
 * - In an ES module app (`esm`), a relative import without an extension gets `.js`, as Node's ESM resolution (and
 *   `moduleResolution: nodenext`) requires: `./app.module` is checked as `./app.module.js`.
 * - In a CommonJS app, top-level `await` is refused. A fragment (a block without a `readme-check: file` name: a few
 *   calls shown as they read inside a method) that awaits at the top level is checked as the body of an async
 *   function, its leading imports kept outside it. A block that stands for a whole file gets no such help: it must
 *   not await at the top level, as the default Nest 11 template refuses it.
 *
 * Both rewrites keep every line of the code on its line, so a diagnostic maps back to the Markdown.
 */
export function blockSource(
  block: ReadmeBlock,
  kind: ModuleKindOfApp = 'esm',
  fileName = block.fileName ?? `readme-line-${block.line}.ts`,
): BlockSource {
  let code = block.code;
  let prelude = block.prelude;
  let footer = 'export {};';
  if (kind === 'esm') {
    code = code.replace(
      BARE_RELATIVE_IMPORT,
      (_match, before: string, quote: string, specifier: string) => `${before}${quote}${specifier}.js${quote}`,
    );
  } else if (!block.fileName && awaitsAtTopLevel(code)) {
    const end = endOfLeadingImports(code);
    const opener = 'async function fragment(): Promise<void> {';
    if (end > 0) code = `${code.slice(0, end)} ${opener}${code.slice(end)}`;
    else prelude = prelude === '' ? opener : `${prelude}\n${opener}`;
    footer = `}\n${footer}`;
  }
  const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
  const codeLines = code.split('\n').length;
  const parts = [prelude, code, footer].filter((part) => part !== '');
  return {
    fileName,
    text: parts.join('\n'),
    markdownPosition: (line, character) => {
      const codeLine = line - preludeLines;
      if (codeLine < 0 || codeLine >= codeLines) return undefined;
      return { line: block.line + 1 + codeLine, column: block.indent + character + 1 };
    },
  };
}

/** A readable test title for a block: its heading and its line, plus the skip reason of a skipped block. */
export function blockTitle(block: ReadmeBlock, source = 'README.md'): string {
  const where = `${block.heading || '(top)'} (${source}:${block.line})`;
  return block.skipReason ? `${where} — skipped: ${block.skipReason}` : where;
}
