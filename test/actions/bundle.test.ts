import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { bundleActions } from '../../actions/build.js';

describe('the checked-in action bundles', () => {
  it('are what `npm run build:actions` builds from the sources now', async () => {
    const bundles = await bundleActions();
    expect([...bundles.keys()].sort()).toEqual(['actions/cluster/dist/main.mjs', 'actions/cluster/dist/post.mjs', 'actions/test/dist/main.mjs']);
    for (const [path, text] of bundles) {
      // Compared by equality, not printed: a diff of minified bundles says nothing; the message says what to do.
      expect({ path, current: readFileSync(path, 'utf8') === text }).toEqual({ path, current: true });
    }
  });
});
