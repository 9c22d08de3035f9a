import { readdirSync, readFileSync, existsSync } from 'fs';
import { resolve } from 'path';
import { renderJsonSchemas, renderMessagesDoc } from './docs';

const DOCS = resolve(__dirname, '../../../docs');

describe('docs/messages.md and docs/schemas/ (npm run docs:messages)', () => {
  it('messages.md is generated from the contract registry and up to date', () => {
    const file = resolve(DOCS, 'messages.md');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(renderMessagesDoc());
  });

  it('schemas/ holds exactly one up-to-date JSON Schema per request, reply and event', () => {
    const want = renderJsonSchemas();
    expect(readdirSync(resolve(DOCS, 'schemas')).sort()).toEqual(Object.keys(want).sort());
    for (const [file, content] of Object.entries(want)) expect({ file, content: readFileSync(resolve(DOCS, 'schemas', file), 'utf8') }).toEqual({ file, content });
    expect(Object.keys(want)).toEqual(expect.arrayContaining(['planner.grid.submit.request.json', 'planner.grid.submit.reply.json', 'jobs.run.event.json']));
  });
});
