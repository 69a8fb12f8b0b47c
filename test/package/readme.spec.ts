import { execFileSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describeDocsCompile } from '../support/docs-compile';
import { packedTarball } from '../support/packed-package';

// The docs compile against the packed tarball (test/support/global-setup.ts packs it), unpacked into an app's
// node_modules as npm would: this proves the published declaration files. test/docs/docs-compile.spec.ts compiles
// the same blocks against the sources in `npm test`.
describeDocsCompile({
  what: 'the packed package',
  install: (modules) => {
    execFileSync('tar', ['-xzf', packedTarball(), '-C', modules]);
    renameSync(join(modules, 'package'), join(modules, 'nestjs-aws-sts'));
  },
  entry: (build) => `dist/${build}/index.d.ts`,
  expectInstalled: (build, installed, files) => {
    const read = files.filter((file) => file.startsWith(`${installed}/`));
    // The published declaration files of that build only: no source file travels in the tarball.
    expect(read.filter((file) => !file.endsWith('.d.ts'))).toEqual([]);
    expect(read.filter((file) => !file.startsWith(join(installed, 'dist', build)))).toEqual([]);
    expect(read.length).toBeGreaterThan(20);
  },
});
