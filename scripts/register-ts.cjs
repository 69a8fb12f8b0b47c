// Runs the TypeScript of bench/ and demo/ in place (ts-node, transpile only). The library's relative imports name
// the .js files they compile to, as ES modules need; here they are mapped back to the .ts sources beside them.
require('ts-node').register({ transpileOnly: true });
const Module = require('node:module');

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveTypeScriptSource(request, parent, ...rest) {
  if (request.startsWith('.') && request.endsWith('.js') && parent?.filename?.endsWith('.ts')) {
    try {
      return resolveFilename.call(this, `${request.slice(0, -3)}.ts`, parent, ...rest);
    } catch {
      // not a TypeScript source: resolve the .js as written
    }
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
