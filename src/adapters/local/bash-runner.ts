import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { type Clock, systemClock } from '../../domain/clock.js';
import { generateRunScript } from '../../domain/run-script.js';
import { runKeys } from '../../domain/runs.js';
import type { Log } from '../../log.js';
import type { LaunchOutcome, RunLaunch, RunLogs, RunMachines, RunMachineState, Store } from '../../ports.js';
import { localRunKey } from '../../store/keys.js';
import { alive, startTime } from './processes.js';

const run = promisify(execFile);

export interface LocalRunnerOptions {
  store: Store;
  logs: RunLogs;
  /** Where `fixture:<name>` repositories come from. */
  fixtures: string;
  /**
   * Called once a run's script ended and its files are uploaded: the local stand-in for the S3 event
   * on `runs/<id>/<writer>/result.json`, with the writer this runner started and whether it left
   * that file (a bash killed with SIGKILL does not).
   */
  onFinished: (runId: string, writer: string, result: boolean) => Promise<unknown>;
  log: Log;
  clock?: Clock;
  /** How often the outbox is uploaded (and an adopted process looked at) while a run goes (ms). */
  syncEveryMs?: number;
}

/** The table's record of a run's process: its work dir first (the intent), then its pid and start time. */
interface RunRecord {
  dir: string;
  pid?: number;
  started?: string;
}

/** A run's bash as the runner knows it: its pid and start time, its work dir; `ended` when it is known to be gone. */
interface RunProcess {
  pid: number;
  started?: string;
  dir: string;
  ended?: boolean;
}

/** Whether it still runs: a zombie (ended, not yet reaped by whoever adopted it after a crash) does not. */
const running = (found: RunProcess) => !found.ended && alive(found) && !zombie(found.pid);

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Work dirs are made by `mkdtemp` under the temp dir with this prefix; nothing else is ever removed. */
const workDirPrefix = 'provisioner-run-';
const writerOf = (pid: number) => `local:${pid}`;

/**
 * Runs the generated script with bash in a fresh 0700 temporary directory, no EC2. Its writer is
 * `local:<pid>` (what `$$` is in the script: the bash this runner spawns); its `upload` copies into
 * `<outbox>/<writer>/`, which this runner uploads under `runs/<id>/` through the log adapter (every
 * second, and once more at the end), so the local log streams like the EC2 one and lands in the
 * same layout; `power_off` is a no-op.
 *
 * Each run's process is recorded in the table (work dir before bash starts, then pid and start
 * time; bash also writes its pid into the work dir), and bash runs in its own process group with
 * only PATH, HOME and the run's secrets, so a restarted server finds it again (`inspect`), stops
 * it (`stop`) and picks up its result. The work dir goes once the run's files are uploaded.
 */
export class LocalBashRunner implements RunMachines {
  /** Runs whose launch is on its way in this process. */
  private readonly launching = new Set<string>();
  /** Runs whose process this runner watches until it ends, reports and is tidied. */
  private readonly watched = new Map<string, Promise<void>>();
  /** When this runner started: a run with no record created before then has no launch on its way. */
  private readonly since: Date;

  constructor(private readonly options: LocalRunnerOptions) {
    this.since = (options.clock ?? systemClock).now();
  }

  async launch(launch: RunLaunch): Promise<LaunchOutcome> {
    const found = await this.process(launch.runId);
    if (found) return { machine: writerOf(found.pid), writer: writerOf(found.pid) };
    this.launching.add(launch.runId);
    try {
      return await this.start(launch);
    } finally {
      this.launching.delete(launch.runId);
    }
  }

  private async start(launch: RunLaunch): Promise<LaunchOutcome> {
    const key = localRunKey(launch.runId);
    // Recorded before it exists, so a crash never leaves a work dir no record names. An unguessable
    // name, made 0700 without following anything already there (mkdtemp in two steps).
    const dir = join(tmpdir(), `${workDirPrefix}${randomBytes(9).toString('base64url')}`);
    if (!(await this.options.store.createIfAbsent({ ...key, dir }))) throw new Error(`run ${launch.runId} is being started already`);
    mkdirSync(dir, { mode: 0o700 });
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
        // Secrets reach bash through its environment, never through a file.
        loadSecrets: ':',
        logEverySeconds: 2,
      },
    );
    writeFileSync(join(dir, 'run.sh'), script, { mode: 0o700 });
    // Its own process group, so a cancel reaches the step it runs too. It writes its pid first (exec keeps it),
    // so a server that dies before recording the pid still finds its bash. Never the server's environment.
    const child = spawn('bash', ['-c', 'echo "$$" > pid && exec bash "$PWD/run.sh"'], {
      cwd: dir,
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, ...launch.script.secretEnv },
    });
    // Listened to at once: it may end while its pid is being recorded (and a failed spawn is an 'error', not a crash).
    const exited = new Promise<unknown>((resolve) => child.once('exit', resolve).once('error', resolve));
    if (child.pid === undefined) throw new Error('bash did not start');
    const started = { pid: child.pid, started: startTime(child.pid), dir };
    await this.options.store.transition(key, { version: 1 }, { pid: started.pid, started: started.started });
    this.watch(launch.runId, started, exited);
    return { machine: writerOf(child.pid), writer: writerOf(child.pid) };
  }

  async stop(runId: string): Promise<void> {
    // Its start ends by recording the machine, which stops it if the run ended meanwhile.
    if (this.launching.has(runId)) return;
    const found = await this.process(runId);
    if (found && running(found)) {
      try {
        process.kill(-found.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      // Watched from now on (after a restart too): its files are uploaded and its dir removed when it ends.
      this.watch(runId, found);
      return;
    }
    // Ended and not watched: what it left is uploaded and removed with its record.
    if (this.watched.has(runId)) return;
    const record = await this.record(runId);
    if (!record) return;
    await this.settle(runId, record.dir);
    await this.options.store.remove(localRunKey(runId));
  }

  async inspect(runId: string): Promise<RunMachineState> {
    if (this.launching.has(runId) || this.watched.has(runId)) return { state: 'handled' };
    const record = await this.record(runId);
    if (!record) return { state: 'none', since: this.since };
    const found = this.processOf(record);
    if (found && running(found)) {
      this.watch(runId, found);
      return { state: 'running', machine: writerOf(found.pid), writer: writerOf(found.pid) };
    }
    await this.settle(runId, record.dir);
    if (!found) return { state: 'ended', result: false };
    const writer = writerOf(found.pid);
    return { state: 'ended', machine: writer, writer, result: await this.resultLeft(runId, writer) };
  }

  /** Resolves when every run this runner watches has ended and reported. */
  async idle(): Promise<void> {
    await Promise.all([...this.watched.values()]);
  }

  /** Stops every run this runner watches (the local runtime closing). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.watched.keys()].map((id) => this.stop(id)));
    await this.idle();
  }

  /**
   * Watches a run's process until it ends (`exited` for the bash this runner spawned, a signal 0
   * each tick for one adopted after a restart), uploading the outbox meanwhile; then uploads the
   * rest, removes the work dir, reports the end and forgets the record.
   */
  private watch(runId: string, found: RunProcess, exited?: Promise<unknown>): void {
    if (this.watched.has(runId)) return;
    const uploaded = new Map<string, number>();
    // One sync at a time: the last one, at the exit, must not skip a file an earlier one is still uploading.
    let syncing = Promise.resolve();
    const sync = () => (syncing = syncing.then(() => this.sync(runId, found.dir, uploaded)));
    let ticker: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      const ended = () => {
        clearInterval(ticker);
        void sync()
          .then(() => this.removeWorkDir(found.dir))
          .then(() => this.report(runId, writerOf(found.pid)))
          .then(() => this.options.store.remove(localRunKey(runId)))
          .catch((error: unknown) => this.options.log.error('local run completion failed', { run: runId, error: (error as Error).message }))
          .finally(() => {
            this.watched.delete(runId);
            resolve();
          });
      };
      ticker = setInterval(() => {
        if (!exited && !running(found)) ended();
        else void sync();
      }, this.options.syncEveryMs ?? 1000);
      void exited?.then(ended);
    });
    this.watched.set(runId, done);
  }

  /** The upload of what an ended, unwatched run left, then its work dir goes. */
  private async settle(runId: string, dir: string): Promise<void> {
    await this.sync(runId, dir, new Map());
    this.removeWorkDir(dir);
  }

  private removeWorkDir(dir: string): void {
    // The table names it, and only this runner writes that record; still, nothing but a run's work dir is removed.
    if (!isAbsolute(dir) || !basename(dir).startsWith(workDirPrefix)) throw new Error(`not a run work dir: ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  }

  private async record(runId: string): Promise<RunRecord | undefined> {
    const item = await this.options.store.get(localRunKey(runId));
    return item && { dir: item.dir as string, pid: item.pid as number | undefined, started: item.started as string | undefined };
  }

  /** The run's recorded process, whether it still runs or not; undefined when it never got one. */
  private async process(runId: string): Promise<RunProcess | undefined> {
    const record = await this.record(runId);
    return record && this.processOf(record);
  }

  /**
   * The record's process; for a record without a pid (a server gone before it wrote it), the pid
   * that bash wrote into the work dir, if that process is still this run's script.
   */
  private processOf(record: RunRecord): RunProcess | undefined {
    if (record.pid !== undefined) return { pid: record.pid, started: record.started, dir: record.dir };
    let pid: number;
    try {
      pid = Number(readFileSync(join(record.dir, 'pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    let command: string[] = [];
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      // No such process: it ended (its outbox still tells what it did).
    }
    return command.includes(join(record.dir, 'run.sh')) ? { pid, started: startTime(pid), dir: record.dir } : { pid, dir: record.dir, ended: true };
  }

  /** Whether the run's writer left its `result.json` (uploaded). */
  private async resultLeft(runId: string, writer: string): Promise<boolean> {
    return (await this.options.logs.get(runKeys.result(runId, writer))) !== undefined;
  }

  /** Reports the end, again a few times if it fails (as an S3 event is retried). */
  private async report(runId: string, writer: string): Promise<void> {
    const result = await this.resultLeft(runId, writer);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.onFinished(runId, writer, result);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /** Uploads the outbox files (`<writer>/<name>`, whatever writer the script named) that changed since the last upload. */
  private async sync(runId: string, dir: string, uploaded: Map<string, number>): Promise<void> {
    const outbox = join(dir, 'outbox');
    if (!existsSync(outbox)) return;
    try {
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
    } catch (error) {
      this.options.log.warn('local run upload failed', { run: runId, error: (error as Error).message });
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
