import { describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { openApiDocument } from '../../src/api/openapi.js';
import { routeEntries } from '../../src/api/routes.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const cliCommands = [...read('client/cli/auth-commands.ts').matchAll(/^ {2}['"]?([a-z-]+)['"]?: \{$/gm), ...read('client/cli/cluster-commands.ts').matchAll(/^ {2}['"]?([a-z-]+)['"]?: \{$/gm), ...read('client/cli/run-commands.ts').matchAll(/^ {2}['"]?([a-z-]+)['"]?: \{$/gm)].map((m) => m[1]);

/** Every `provisioner <command>` a file runs. */
function commandsUsed(text: string, prefix = 'provisioner'): string[] {
  return [...text.matchAll(new RegExp(`${prefix} ([a-z-]+)`, 'g'))].map((m) => m[1] ?? '');
}

describe('the examples', () => {
  it('use only commands the CLI has', () => {
    expect(cliCommands).toEqual(expect.arrayContaining(['login', 'deploy', 'destroy', 'access', 'schedule-destroy']));
    // What the YAML files run (comments may mention commands still to come).
    const runs = (path: string, steps: (doc: any) => { run?: string }[]) => steps(parse(read(path))).map((s) => s.run ?? '').join('\n');
    const used = [
      ...commandsUsed(runs('examples/github/nightly.yml', (doc) => doc.jobs.nightly.steps)),
      ...commandsUsed(runs('examples/action/action.yml', (doc) => doc.runs.steps)),
      ...commandsUsed(read('examples/Makefile'), '\\$\\(PROVISIONER\\)'),
    ];
    expect(used.length).toBeGreaterThan(5);
    for (const command of used) expect(cliCommands).toContain(command);
  });

  it('has a nightly workflow that logs in with OIDC, waits for the deploy, waits for a TEST, prints its log, and always destroys', () => {
    const workflow = parse(read('examples/github/nightly.yml'));
    expect(workflow.permissions['id-token']).toBe('write');
    const steps = workflow.jobs.nightly.steps as { uses?: string; run?: string; if?: string }[];
    expect(steps.some((s) => s.uses === './examples/action')).toBe(true);
    expect(steps.find((s) => s.run?.includes('provisioner deploy'))?.run).toContain('--wait');
    expect(steps.some((s) => s.run?.includes('provisioner schedule-destroy'))).toBe(true);
    expect(steps.find((s) => s.run?.includes('provisioner destroy'))?.if).toBe('always()');
    const test = steps.findIndex((s) => s.run?.includes('provisioner test'));
    const log = steps.findIndex((s) => s.run?.includes('--log'));
    expect(steps[test]?.run).toContain('--wait');
    expect(steps[log]?.if).toBe('always()');
    expect(test).toBeLessThan(log);
    expect(log).toBeLessThan(steps.findIndex((s) => s.run?.includes('provisioner destroy')));
  });

  it('has a composite action that installs the CLI and logs in with the job\'s token', () => {
    const action = parse(read('examples/action/action.yml'));
    expect(action.runs.using).toBe('composite');
    expect(action.inputs.url.required).toBe(true);
    const script = (action.runs.steps as { run?: string }[]).map((s) => s.run ?? '').join('\n');
    expect(script).toContain('npm link');
    expect(script).toContain('provisioner login --github-actions');
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and has every route, with its path parameters', async () => {
    const document = openApiDocument();
    const result = await new Validator().validate(document as never);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    const paths = document.paths as Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[] }>>;
    for (const [operation, spec] of routeEntries) {
      const entry = paths[spec.path]?.[spec.method.toLowerCase()];
      // The console's files are pages for a browser, not operations of the API.
      if (spec.file) {
        expect(entry).toBeUndefined();
        continue;
      }
      expect(entry?.operationId).toBe(operation);
      for (const name of spec.path.match(/\{(\w+)\}/g) ?? []) {
        expect(entry?.parameters).toContainEqual(expect.objectContaining({ name: name.slice(1, -1), in: 'path' }));
      }
    }
  });
});
