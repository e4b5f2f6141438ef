import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCatalog } from '../../src/domain/catalog.js';
import { planFor, type RunStep } from '../../src/domain/catalog/runs.js';
import { ProvisionerError } from '../../src/domain/errors.js';
import { ec2Hooks } from '../../src/adapters/aws/ec2-runner.js';
import { generateRunScript } from '../../src/domain/run-script.js';
import { decideCancelRun, decideStart, isSafeRef, outcomeOf } from '../../src/domain/runs.js';

const runId = '0b5c9a52-5a0e-4d3c-9a51-6f1f2d3e4a5b';
const exampleCatalog = parseCatalog(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8'), 'example.json');

describe('git refs', () => {
  it.each(['main', 'v4.5.1', 'release/2026-11', 'feature/run_logs', 'a3f9c2e', '0123456789abcdef0123456789abcdef01234567'])('%s is safe', (ref) => {
    expect(isSafeRef(ref)).toBe(true);
  });
  it.each(['; rm -rf /', '$(id)', '`id`', '--upload-pack=touch /tmp/x', '-b', 'main\nrm -rf /', 'main\n', 'a b', "it's", 'a..b', 'a//b', 'a/', 'a.', 'x.lock', 'a@{1}', '', 'x'.repeat(129), 'refs/.hidden'])(
    '%j is refused',
    (ref) => {
      expect(isSafeRef(ref)).toBe(false);
      expect(() => decideStart('release', ref, 'demo', 'absent')).toThrow(expect.objectContaining({ code: 'invalid_request' }) as unknown as Error);
      expect(() => generateRunScript({ runId, ref, repository: 'https://example.com/r.git', steps: [{ name: 'a', run: 'true' }] }, hooks('/tmp/x', '/tmp/y'))).toThrow(/version must be/);
    },
  );
});

describe('run decisions', () => {
  it('TEST needs the cluster running and names its status; RELEASE does not', () => {
    expect(() => decideStart('test', 'main', 'demo', 'deploying')).toThrow(expect.objectContaining({ code: 'cluster_not_running', message: expect.stringContaining('deploying') }) as unknown as Error);
    expect(() => decideStart('test', 'main', 'demo', 'running')).not.toThrow();
    expect(() => decideStart('release', 'main', 'demo', 'absent')).not.toThrow();
  });
  it('cancel of a finished run is refused', () => {
    for (const status of ['passed', 'failed', 'timed_out', 'cancelled'] as const) {
      expect(() => decideCancelRun({ id: 'r', status, version: 3 })).toThrow(ProvisionerError);
    }
    expect(() => decideCancelRun({ id: 'r', status: 'running', version: 2 })).not.toThrow();
  });
  it('an outcome names the failing step', () => {
    expect(outcomeOf({ steps: [{ name: 'a', status: 'passed', seconds: 1 }] })).toEqual({ status: 'passed' });
    expect(outcomeOf({ steps: [{ name: 'a', status: 'passed', seconds: 1 }, { name: 'b', status: 'failed', seconds: 2 }], failed_step: 'b' })).toMatchObject({ status: 'failed', failed_step: 'b' });
    expect(outcomeOf({ steps: [] })).toMatchObject({ status: 'failed' });
  });
});

describe('plans in the catalog', () => {
  it('a cluster override wins over the kind default, with the limits resolved', () => {
    expect(planFor(exampleCatalog.runs, 'test', 'demo')).toMatchObject({ name: 'offline-test', timeLimitMs: 600_000 });
    expect(planFor(exampleCatalog.runs, 'test', 'other')).toMatchObject({ name: 'sliderule-test', timeLimitMs: 7_200_000, instanceType: 'm6i.2xlarge' });
    expect(() => planFor(undefined, 'test', 'demo')).toThrow(expect.objectContaining({ code: 'runs_not_configured' }) as unknown as Error);
  });
  it('the seed TEST plan: clone, conda, python and node clients, then build, Lua, AMS and Manager tests in the build container', () => {
    const { plan } = planFor(exampleCatalog.runs, 'test', 'other');
    expect(plan.steps.map((s) => s.name)).toEqual(['setup', 'clone', 'conda-env', 'python-tests', 'node-tests', 'static-analysis', 'lua-selftests', 'ams-tests', 'manager-tests']);
    expect(plan.steps.filter((s) => s.image).map((s) => s.name)).toEqual(['static-analysis', 'lua-selftests', 'ams-tests', 'manager-tests']);
  });
  it('a plan naming a missing or wrong-kind plan is refused', () => {
    const bad = { ...JSON.parse(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8')) };
    bad.runs.test = 'sliderule-release';
    expect(() => parseCatalog(JSON.stringify(bad), 'bad.json')).toThrow(/must name plans of that kind/);
  });
});

const writer = 'AROATESTROLE:i-0123456789abcdef0';

/** Uploads copy into `out/<writer>/`, as S3 keys under the writer's prefix; power off leaves a marker in `out`. */
function hooks(dir: string, out: string, upload = `mkdir -p "${out}/$RUN_WRITER" && cp "$1" "${out}/$RUN_WRITER/$2"`) {
  return { dir, writer: `echo ${writer}`, upload, powerOff: `touch "${out}/powered-off"`, loadSecrets: ':', logEverySeconds: 1 };
}

interface ScriptRun {
  code: number | null;
  result: any;
  log: string;
  poweredOff: boolean;
  /** The uploaded log whenever it changed while the script ran. */
  uploads: string[];
}

/**
 * Runs a script and reads its uploads; `signalAfter` sends SIGTERM once the log shows that text,
 * `upload` replaces the hooks' upload, `settleMs` waits after the exit (for anything still uploading).
 */
function runScript(steps: RunStep[], options: { signalAfter?: string; upload?: (out: string) => string; settleMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'run-'));
  const out = mkdtempSync(join(tmpdir(), 'out-'));
  const uploaded = join(out, writer, 'log.txt');
  const script = generateRunScript({ runId, ref: 'main', repository: 'fixture:x', steps, env: { CLUSTER_URL: 'http://127.0.0.1:1' } }, hooks(dir, out, options.upload?.(out)));
  writeFileSync(join(dir, 'run.sh'), script);
  return new Promise<ScriptRun>((resolve) => {
    const uploads: string[] = [];
    const child = spawn('bash', [join(dir, 'run.sh')], { stdio: 'ignore' });
    let signalled = false;
    const timer = setInterval(() => {
      const latest = existsSync(uploaded) ? readFileSync(uploaded, 'utf8') : undefined;
      if (latest !== undefined && latest !== uploads.at(-1)) uploads.push(latest);
      if (options.signalAfter && !signalled && existsSync(join(dir, 'log.txt')) && readFileSync(join(dir, 'log.txt'), 'utf8').includes(options.signalAfter)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      setTimeout(() => {
        const read = (name: string) => readFileSync(join(out, writer, name), 'utf8');
        resolve({ code, result: JSON.parse(read('result.json')), log: read('log.txt'), poweredOff: existsSync(join(out, 'powered-off')), uploads });
      }, options.settleMs ?? 0);
    });
  });
}

describe('the generated script', () => {
  it('never writes a secret into the script; load_secrets exports it before the first step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'));
    const out = mkdtempSync(join(tmpdir(), 'out-'));
    const secret = 'eyJ.secret-token.sig';
    const script = generateRunScript(
      { runId, ref: 'main', repository: 'fixture:x', steps: [{ name: 'use', run: 'echo "token=$CLUSTER_TOKEN"' }], secretEnv: { CLUSTER_TOKEN: secret } },
      { ...hooks(dir, out), loadSecrets: `export CLUSTER_TOKEN=$(cat ${join(out, 'delivered')})` },
    );
    expect(script).not.toContain(secret);
    writeFileSync(join(out, 'delivered'), secret);
    writeFileSync(join(dir, 'run.sh'), script);
    const code = await new Promise<number | null>((resolve) => spawn('bash', [join(dir, 'run.sh')], { stdio: 'ignore' }).on('exit', resolve));
    expect(code).toBe(0);
    expect(readFileSync(join(out, writer, 'log.txt'), 'utf8')).toContain(`token=${secret}`);
  });

  it('runs the steps in order, records each exit code, uploads and powers off on success', async () => {
    const { code, result, log, poweredOff } = await runScript([
      { name: 'first', run: 'echo one; echo "$RUN_VERSION at $CLUSTER_URL"' },
      { name: 'second', run: 'echo two' },
      { name: 'third', run: 'echo three' },
    ]);
    expect(code).toBe(0);
    expect(result).toEqual({
      run_id: runId,
      exit_code: 0,
      steps: [
        { name: 'first', status: 'passed', seconds: expect.any(Number), exit_code: 0 },
        { name: 'second', status: 'passed', seconds: expect.any(Number), exit_code: 0 },
        { name: 'third', status: 'passed', seconds: expect.any(Number), exit_code: 0 },
      ],
    });
    expect(log.indexOf('one')).toBeLessThan(log.indexOf('two'));
    expect(log.indexOf('two')).toBeLessThan(log.indexOf('three'));
    expect(log).toContain('main at http://127.0.0.1:1');
    expect(poweredOff).toBe(true);
  });

  it('stops at a failing step, names it, skips the rest, and still uploads and powers off', async () => {
    const { code, result, log, poweredOff } = await runScript([
      { name: 'first', run: 'true' },
      { name: 'breaks', run: 'echo about to fail; exit 3' },
      { name: 'later', run: 'echo never' },
    ]);
    expect(code).toBe(3);
    expect(result.failed_step).toBe('breaks');
    expect(result.steps.map((s: any) => [s.name, s.status, s.exit_code])).toEqual([
      ['first', 'passed', 0],
      ['breaks', 'failed', 3],
      ['later', 'skipped', undefined],
    ]);
    expect(log).toContain('about to fail');
    expect(log).not.toContain('never');
    expect(poweredOff).toBe(true);
  });

  it('a failing command inside a pipeline fails its step (pipefail)', async () => {
    const { result } = await runScript([{ name: 'pipe', run: 'false | cat' }]);
    expect(result).toMatchObject({ failed_step: 'pipe', steps: [{ status: 'failed', exit_code: 1 }] });
  });

  it('on SIGTERM it stops the step, records it failed, uploads and powers off', async () => {
    const { code, result, log, poweredOff } = await runScript(
      [
        { name: 'quick', run: 'true' },
        { name: 'slow', run: 'echo slow started; sleep 30' },
        { name: 'after', run: 'true' },
      ],
      { signalAfter: 'slow started' },
    );
    expect(code).toBe(143);
    expect(result).toMatchObject({ exit_code: 143, failed_step: 'slow' });
    expect(result.steps.map((s: any) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(log).toContain('received SIGTERM');
    expect(poweredOff).toBe(true);
  });

  it('uploads the growing log while a step runs, under its writer, and the whole log at the end', async () => {
    const { result, log, uploads } = await runScript([
      { name: 'long', run: 'echo halfway; sleep 2.5; echo done' },
      { name: 'short', run: 'echo short' },
    ]);
    expect(result.steps.map((s: any) => s.status)).toEqual(['passed', 'passed']);
    // The ticker (every second here) showed the step's first line while it still ran.
    const progress = uploads.find((text) => text.includes('halfway') && !text.includes('done'));
    expect(progress).toContain(`uploading as ${writer}`);
    // Each upload is a longer prefix of the final log.
    for (const text of uploads) expect(log.startsWith(text)).toBe(true);
    expect(log).toContain('== run ended with exit code 0');
  });

  it('waits for an upload in flight before the last one, so the final log is never replaced by an older one', async () => {
    // One process per upload, as aws s3 cp is: uploads of the log before its last line take 1.5 s, the
    // final one is instant. The step fails after the first tick (at 1 s), while that tick's upload is in flight.
    const slowUntilTheEnd = (out: string) =>
      `bash -c 'f=$(mktemp) && cp "$1" "$f" && { [ "$2" != log.txt ] || grep -q "run ended" "$f" || sleep 1.5; } && mkdir -p "${out}/$3" && mv "$f" "${out}/$3/$2"' upload "$1" "$2" "$RUN_WRITER"`;
    const { log } = await runScript([{ name: 'brief', run: 'sleep 1.6; exit 1' }], { upload: slowUntilTheEnd, settleMs: 2_000 });
    expect(log).toContain('== run ended with exit code 1');
  });

  it('keeps a command with quotes and $ as the catalog wrote it', async () => {
    const { result, log } = await runScript([{ name: 'quotes', run: `x='it'"'"'s'; echo "$x \\$HOME"` }]);
    expect(result.steps[0].status).toBe('passed');
    expect(log).toContain("it's $HOME");
  });

  it('fits in EC2 user data (16 KB) with the largest example plan and a cluster JWT', () => {
    const plans = Object.values(exampleCatalog.runs?.plans ?? {});
    const largest = plans.reduce((a, b) => (JSON.stringify(b.steps).length > JSON.stringify(a.steps).length ? b : a));
    const script = generateRunScript(
      { runId, ref: 'release/2026-11-25', repository: largest.repository, steps: largest.steps, env: { CLUSTER_URL: 'https://demo.example.org', CLUSTER_TOKEN: 'x'.repeat(1200), RUN_CLUSTER: 'demo' } },
      ec2Hooks({ bucket: 'provisioner-runs-123456789012-ap-southeast-2', region: 'ap-southeast-2', runId, timeLimitMs: 7_200_000 }),
    );
    expect(largest.steps.length).toBeGreaterThanOrEqual(9);
    expect(Buffer.from(script).toString('base64').length).toBeLessThanOrEqual(16_384);
  });
});
