#!/usr/bin/env node
import { runCli } from './cli';

runCli(process.argv).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; if a stray handle kept the loop alive, do not hang the shell.
  setTimeout(() => process.exit(code), 3000).unref();
});
