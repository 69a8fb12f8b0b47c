// The dependency rules of src/, checked by `npm run depcheck` (part of `npm test`). Type-only imports count too.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Dependencies go one way: a cycle means two files share a concern that belongs in a third.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'cache-not-on-shared-tier',
      comment: 'The shared tier (cache/shared/) depends on the local cache, never the reverse.',
      severity: 'error',
      from: { path: '^src/cache/', pathNot: '^src/cache/shared/' },
      to: { path: '^src/cache/shared/' },
    },
    {
      name: 'testing-kit-only-from-testing',
      comment: 'The testing kit ships as its own subpath (nestjs-aws-sts/testing): the library never loads it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/testing/' },
      to: { path: '^src/testing/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'The command line (cli/) sits on top of the library, which never loads it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-not-on-tests',
      comment: 'The package holds src/ alone: nothing in it may import the specs, the bench or the demo.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|demo)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
