import { join } from 'node:path';
import { describeDocsCompile } from '../support/docs-compile';
import { installSourcePackage } from '../support/source-package';

// The docs compile against the library's sources, laid out as the package an app installs: no build, no pack, so it
// runs in `npm test`. test/package/readme.spec.ts compiles the same blocks against the packed tarball.
describeDocsCompile({
  what: 'the sources',
  install: installSourcePackage,
  entry: (build) => `dist/${build}/index.ts`,
  expectInstalled: (build, installed, files) => {
    const read = files.filter((file) => file.startsWith(`${installed}/`));
    // The sources themselves, as that build's module format: no declaration file of the package stands in for them.
    expect(read.filter((file) => file.endsWith('.d.ts'))).toEqual([]);
    expect(read.filter((file) => !file.startsWith(join(installed, 'dist', build)))).toEqual([]);
    expect(read.length).toBeGreaterThan(20); // the library's modules, not one file
  },
});
