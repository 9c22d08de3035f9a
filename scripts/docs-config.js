#!/usr/bin/env node
// Writes docs/configuration.md from the built config library's schemas (npm run docs:config).
'use strict';
const { writeFileSync } = require('fs');
const { resolve } = require('path');
const { renderConfigDoc } = require('../libs/config/dist/docs.js');

writeFileSync(resolve(__dirname, '..', 'docs', 'configuration.md'), renderConfigDoc());
console.log('docs/configuration.md');
