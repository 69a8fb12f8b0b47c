#!/usr/bin/env node
// The `nestjs-aws-sts` command (package.json `bin`): CommonJS, built to dist/cjs/cli/main.js.
import { runCli } from './run-cli.js';

runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
