// Each build folder says which module system its .js and .d.ts files are, so Node and TypeScript read
// dist/esm as ES modules and dist/cjs as CommonJS whatever the package's own "type" is.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

for (const [folder, type] of [
  ['esm', 'module'],
  ['cjs', 'commonjs'],
]) {
  writeFileSync(join(__dirname, '..', 'dist', folder, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
}
