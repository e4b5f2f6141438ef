import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateRunScript } from '../../domain/run-script.js';
import { runKeys } from '../../domain/runs.js';
import type { Log } from '../../log.js';
import type { LaunchOutcome, RunLaunch, RunLogs, RunMachines } from '../../ports.js';

const run = promisify(execFile);

export interface LocalRunnerOptions {
  logs: RunLogs;
  /** Where `fixture:<name>` repositories come from. */
  fixtures: string;
  /**
   * Called once a run's script ended and its files are uploaded: the local stand-in for the S3 event
   * on `runs/<id>/<writer>/result.json`, with the writer this runner started.
   */
  onFinished: (runId: string, writer: string) => Promise<unknown>;
  log: Log;
  /** How often the outbox is uploaded while a run goes (ms). */
  syncEveryMs?: number;
}

interface LocalRun {
  child: ChildProcess;
  done: Promise<void>;
}

/**
 * Runs the generated script with bash in a fresh temporary directory, no EC2. Its writer is
 * `local:<pid>` (what `$$` is in the script: the process this runner spawns); its `upload` copies
 * into `<outbox>/<writer>/`, which this runner uploads under `runs/<id>/` through the S3 adapter
 * (every second, and once more at the end), so the local log streams like the EC2 one and lands in
 * the same layout; `power_off` is a no-op.
 */
export class LocalBashRunner implements RunMachines {
  private readonly runs = new Map<string, LocalRun>();

  constructor(private readonly options: LocalRunnerOptions) {}

  async launch(launch: RunLaunch): Promise<LaunchOutcome> {
    const running = this.runs.get(launch.runId);
    if (running) return { machine: `local:${running.child.pid}`, writer: `local:${running.child.pid}` };
    const dir = mkdtempSync(join(tmpdir(), 'provisioner-run-'));
    const outbox = join(dir, 'outbox');
    mkdirSync(outbox);
    const repository = await this.repository(launch.script.repository, dir);
    const script = generateRunScript(
      { ...launch.script, repository },
      {
        dir: join(dir, 'run'),
        writer: 'echo "local:$$"',
        // Copied aside first, so that the runner never uploads half a file (the ticker and the steps may upload at once).
        upload: `d="${outbox}/$RUN_WRITER" && mkdir -p "$d" && cp "$1" "$d/.$2.$BASHPID" && mv "$d/.$2.$BASHPID" "$d/$2"`,
        powerOff: ':',
        // Secrets reach bash through its environment, never through run.sh.
        loadSecrets: ':',
        logEverySeconds: 2,
      },
    );
    writeFileSync(join(dir, 'run.sh'), script, { mode: 0o700 });
    // Its own process group, so a cancel reaches the step it runs too.
    const child = spawn('bash', [join(dir, 'run.sh')], { cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, ...launch.script.secretEnv } });
    const writer = `local:${child.pid}`;
    const uploaded = new Map<string, number>();
    // One sync at a time: the last one, at the exit, must not skip a file an earlier one is still uploading.
    let syncing = Promise.resolve();
    const sync = () =>
      (syncing = syncing.then(() =>
        this.sync(launch.runId, outbox, uploaded).catch((error: unknown) => this.options.log.warn('local run upload failed', { run: launch.runId, error: (error as Error).message })),
      ));
    const timer = setInterval(() => void sync(), this.options.syncEveryMs ?? 1000);
    const done = new Promise<void>((resolve) => {
      child.on('exit', () => {
        clearInterval(timer);
        void sync()
          .then(() => this.report(launch.runId, writer))
          .catch((error: unknown) => this.options.log.error('local run completion failed', { run: launch.runId, error: (error as Error).message }))
          .finally(() => {
            this.runs.delete(launch.runId);
            resolve();
          });
      });
    });
    this.runs.set(launch.runId, { child, done });
    return { machine: writer, writer };
  }

  async stop(runId: string): Promise<void> {
    const local = this.runs.get(runId);
    if (!local?.child.pid) return;
    try {
      process.kill(-local.child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }

  /** Resolves when every run this runner started has ended and reported. */
  async idle(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  /** Stops every run (the local runtime closing). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.runs.keys()].map((id) => this.stop(id)));
    await this.idle();
  }

  /** Reports the end, again a few times if it fails (the run may not have recorded its machine yet, as an S3 event is retried). */
  private async report(runId: string, writer: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.onFinished(runId, writer);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /** Uploads the outbox files (`<writer>/<name>`, whatever writer the script named) that changed since the last upload. */
  private async sync(runId: string, outbox: string, uploaded: Map<string, number>): Promise<void> {
    for (const entry of readdirSync(outbox, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const writer = entry.name;
      for (const name of readdirSync(join(outbox, writer))) {
        if (name.startsWith('.')) continue;
        const path = join(outbox, writer, name);
        const mtime = statSync(path).mtimeMs;
        if (uploaded.get(path) === mtime) continue;
        uploaded.set(path, mtime);
        const contentType = name.endsWith('.json') ? 'application/json' : 'text/plain; charset=utf-8';
        await this.options.logs.put(`${runKeys.prefix(runId, writer)}${name}`, readFileSync(path), contentType);
      }
    }
  }

  /** `fixture:<name>`: a git repository made from the fixture (branch main, tag v1.0), as a file URL. */
  private async repository(repository: string, dir: string): Promise<string> {
    if (!repository.startsWith('fixture:')) return repository;
    const repo = join(dir, 'fixture');
    cpSync(join(this.options.fixtures, repository.slice('fixture:'.length)), repo, { recursive: true });
    const git = (...args: string[]) => run('git', ['-C', repo, '-c', 'user.name=provisioner', '-c', 'user.email=provisioner@localhost', '-c', 'commit.gpgsign=false', ...args]);
    await git('init', '--quiet', '--initial-branch=main');
    await git('add', '--all');
    await git('commit', '--quiet', '--message', 'fixture');
    await git('tag', 'v1.0');
    return `file://${repo}`;
  }
}
