import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
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

describe('examples/nightly.yml', () => {
  it('gives each action only inputs its action.yml declares, every required one, and the job id-token: write', () => {
    const workflow = parse(readFileSync('examples/nightly.yml', 'utf8'));
    expect(workflow.permissions).toMatchObject({ 'id-token': 'write' });
    const steps: { uses?: string; with?: Record<string, unknown> }[] = workflow.jobs.nightly.steps;
    const used = steps.flatMap((step) => {
      const dir = step.uses?.match(/^[\w-]+\/provisioner\/(actions\/\w+)@v1$/)?.[1];
      return dir ? [{ dir, with: step.with ?? {} }] : [];
    });
    expect(used.map((u) => u.dir)).toEqual(['actions/cluster', 'actions/test']);
    for (const step of used) {
      const inputs: Record<string, { required?: boolean }> = parse(readFileSync(`${step.dir}/action.yml`, 'utf8')).inputs;
      expect(Object.keys(step.with).filter((name) => !(name in inputs))).toEqual([]);
      expect(Object.keys(inputs).filter((name) => inputs[name]?.required && !(name in step.with))).toEqual([]);
    }
  });
});
