/**
 * `vsce package` (the e2e tier's prepare and `npm run package`) refuses a README with a relative link when the
 * package names no repository: "The link '…' will be broken in README.md". Paths in the README are code spans.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

describe('README', () => {
  it('has no relative links (vsce package cannot resolve them without a repository URL)', () => {
    const text = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const relative = [...text.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]).filter((href) => !/^(https?:|mailto:|#)/.test(href));
    assert.deepEqual(relative, [], 'write repository paths as `code`, or link them with an absolute URL');
  });
});
