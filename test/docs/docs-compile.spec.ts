import { describeDocsCompile } from '../support/docs-compile';
import { installSourcePackage } from '../support/source-package';

// The docs compile against the library's sources, laid out as the package an app installs: no build, no pack, so it
// runs in `npm test`. test/package/readme.spec.ts compiles the same blocks against the packed tarball.
describeDocsCompile({
  what: 'the sources',
  install: installSourcePackage,
  entry: (build) => `dist/${build}/index.ts`,
});
