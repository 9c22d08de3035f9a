#!/usr/bin/env node
// Writes docs/messages.md and docs/schemas/*.json from the built contracts library (npm run docs:messages).
'use strict';
const { mkdirSync, readdirSync, rmSync, writeFileSync } = require('fs');
const { join, resolve } = require('path');
const { renderJsonSchemas, renderMessagesDoc } = require('../libs/contracts/dist/docs.js');

const docs = resolve(__dirname, '..', 'docs');
writeFileSync(join(docs, 'messages.md'), renderMessagesDoc());
const dir = join(docs, 'schemas');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.json')) rmSync(join(dir, f));
const files = renderJsonSchemas();
for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
console.log(`docs/messages.md and ${Object.keys(files).length} files in docs/schemas/`);
