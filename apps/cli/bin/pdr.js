#!/usr/bin/env node
'use strict';
// `pdr` — the grid runner's command line. The code lives in ../dist (built by `npm run build`).
const path = require('path');
const fs = require('fs');
const main = path.join(__dirname, '..', 'dist', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(`pdr: error: the CLI is not built (${main} is missing); run npm run build in the repository root\n`);
  process.exit(3);
}
require(main);
