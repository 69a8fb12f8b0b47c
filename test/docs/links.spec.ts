import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { markdownFiles } from '../support/docs-compile';

// Every relative link of README.md and docs/ leads to a file, and a link's #anchor to a heading of that file.

const root = join(__dirname, '..', '..');

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
    const broken = markdownFiles().flatMap((file) =>
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
