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
        if (directives) throw new Error(`${source}:${directives.line}: directives before a "${language || 'plain'}" block, which is not checked`);
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

/**
 * The file the compiler checks for a block: its prelude, its code, and `export {}` so that every block is a module
 * (its names do not clash with other blocks', and it may `await` at the top level).
 */
export function blockSource(block: ReadmeBlock): BlockSource {
  const preludeLines = block.prelude === '' ? 0 : block.prelude.split('\n').length;
  const codeLines = block.code.split('\n').length;
  const parts = [block.prelude, block.code, 'export {};'].filter((part) => part !== '');
  return {
    fileName: block.fileName ?? `readme-line-${block.line}.ts`,
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
