import { readFileSync, existsSync } from 'fs';
import { resolve } from 'path';
import { renderMessagesDoc } from './docs';

describe('docs/messages.md', () => {
  it('is generated from the contract registry and up to date (npm run docs:messages)', () => {
    const file = resolve(__dirname, '../../../docs/messages.md');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(renderMessagesDoc());
  });
});
