import type { RunStep } from './catalog/runs.js';
import { isSafeRef, refRule } from './runs.js';

/**
 * THE script generator: one bash script per run, the same for every runner (EC2 user data, a local
 * bash process). The runner only supplies where the run works, how a file is uploaded under the
 * run's prefix, and how the machine powers off.
 */
export interface ScriptInput {
  runId: string;
  /** The git ref to check out; refused unless safe (it is data here, never code). */
  ref: string;
  repository: string;
  steps: readonly RunStep[];
  /** More variables the steps see (the cluster's URL for TEST), written into the script. */
  env?: Record<string, string>;
  /**
   * Variables the steps see that are never written into the script (the cluster JWT for TEST): the
   * runner delivers them, and the script's `load_secrets` exports them before the first step.
   */
  secretEnv?: Record<string, string>;
}

export interface RunnerHooks {
  /** An absolute directory of its own: the script works in `<dir>/work`, writes `log.txt` and `result.json` beside it. */
  dir: string;
  /** A command run first, before anything can fail (on EC2: the machine's own power-off past the time limit). */
  begin?: string;
  /** The body of `writer`: prints who this machine is to the log bucket (`runKeys`), its uploads' prefix. */
  writer: string;
  /** The body of `upload FILE NAME`: stores FILE as `runs/<id>/$RUN_WRITER/NAME`. */
  upload: string;
  /** The body of `power_off`: `shutdown -h now` on EC2, a no-op locally. */
  powerOff: string;
  /**
   * The body of `load_secrets`: exports every `secretEnv` variable (fetched at boot on EC2; locally
   * they are already in bash's environment, so `:`). Runs once the writer is known, before any step.
   */
  loadSecrets: string;
  /** How often the log is uploaded while a step runs (seconds). */
  logEverySeconds?: number;
}

/** Quotes any text as one bash word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const variableName = /^[A-Z][A-Z0-9_]{0,63}$/;

/** How many times the script asks who it is before it gives up (it cannot upload without knowing). */
const writerAttempts = 5;

/** Builds the run's script; throws on an unsafe ref or variable name, which never come from a request unchecked. */
export function generateRunScript(input: ScriptInput, hooks: RunnerHooks): string {
  if (!isSafeRef(input.ref)) throw new Error(`version ${refRule}`);
  if (!/^[0-9a-f-]{8,64}$/.test(input.runId)) throw new Error('a run id is a UUID');
  const env: Record<string, string> = { RUN_ID: input.runId, RUN_VERSION: input.ref, RUN_REPOSITORY: input.repository, ...input.env };
  const secretNames = Object.keys(input.secretEnv ?? {});
  for (const name of [...Object.keys(env), ...secretNames]) if (!variableName.test(name)) throw new Error(`${name} is not a variable name`);
  const names = input.steps.map((s) => s.name);
  const dockerEnv = [...Object.keys(env), ...secretNames].map((name) => `-e ${name}`).join(' ');
  const lines = [
    '#!/bin/bash',
    `# Provisioner run ${input.runId}: generated; uploads log.txt and result.json under its writer's prefix, then powers off.`,
    'set -euo pipefail',
    ...(hooks.begin ? [hooks.begin] : []),
    ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    `RUN_DIR=${shellQuote(hooks.dir)}`,
    'LOG="$RUN_DIR/log.txt" RESULT="$RUN_DIR/result.json"',
    'mkdir -p "$RUN_DIR/work" && cd "$RUN_DIR/work"',
    'exec >>"$LOG" 2>&1',
    `writer() { ${hooks.writer}; }`,
    `upload() { ${hooks.upload}; }`,
    `power_off() { ${hooks.powerOff}; }`,
    `load_secrets() { ${hooks.loadSecrets}; }`,
    `NAMES=(${names.join(' ')})`,
    `STATE=(${names.map(() => 'skipped').join(' ')})`,
    `SECS=(${names.map(() => '0').join(' ')})`,
    `CODES=(${names.map(() => '-').join(' ')})`,
    "FAILED='' CURRENT='' STEP_PID='' TICKER='' RUN_WRITER=''",
    // Steps are all bash-safe names and numbers, so the JSON needs no escaping.
    'write_result() {',
    '  local i sep="" out="{\\"run_id\\":\\"$RUN_ID\\",\\"exit_code\\":$1,\\"steps\\":["',
    '  for i in "${!NAMES[@]}"; do',
    '    out+="$sep{\\"name\\":\\"${NAMES[$i]}\\",\\"status\\":\\"${STATE[$i]}\\",\\"seconds\\":${SECS[$i]}"',
    '    if [ "${CODES[$i]}" != - ]; then out+=",\\"exit_code\\":${CODES[$i]}"; fi',
    '    out+="}"; sep=","',
    '  done',
    '  out+="]"',
    '  if [ -n "$FAILED" ]; then out+=",\\"failed_step\\":\\"$FAILED\\""; fi',
    '  printf \'%s\\n\' "$out}" >"$RESULT"',
    '}',
    // Every exit path (success, a failing step, a signal) ends here: result, log, power off.
    'finish() {',
    '  local code=$?',
    "  trap '' TERM INT",
    // The ticker finishes an upload in flight before it exits, so that no older log lands after the last one.
    '  if [ -n "$TICKER" ]; then kill "$TICKER" 2>/dev/null || true; wait "$TICKER" 2>/dev/null || true; fi',
    '  echo "== run ended with exit code $code"',
    '  write_result "$code" || true',
    '  upload "$LOG" log.txt || true',
    '  upload "$RESULT" result.json || true',
    '  power_off || true',
    '}',
    'on_signal() {',
    '  echo "== received $1"',
    '  if [ -n "$STEP_PID" ]; then kill -TERM "$STEP_PID" 2>/dev/null || true; fi',
    '  if [ -n "$CURRENT" ]; then STATE[$CURRENT]=failed; FAILED=${NAMES[$CURRENT]}; fi',
    '  exit "$2"',
    '}',
    'trap finish EXIT',
    "trap 'on_signal SIGTERM 143' TERM",
    "trap 'on_signal SIGINT 130' INT",
    // Who this machine is decides where it may upload (on EC2: IAM allows only its own `aws:userid` prefix).
    `for attempt in {1..${writerAttempts}}; do RUN_WRITER=$(writer) && [ -n "$RUN_WRITER" ] && break || sleep 5; done`,
    '[ -n "$RUN_WRITER" ] || { echo "== cannot tell who this machine is: nothing can be uploaded"; exit 1; }',
    'echo "== run $RUN_ID at $RUN_VERSION, uploading as $RUN_WRITER"',
    ...(secretNames.length > 0 ? ['load_secrets || { echo "== could not load the run\'s secrets"; exit 1; }'] : []),
    // S3 has no append: the growing log replaces log.txt every few seconds and after each step.
    "tick() { trap 'kill $! 2>/dev/null; exit 0' TERM; while :; do",
    `  sleep ${hooks.logEverySeconds ?? 30} & wait $! || true; upload "$LOG" log.txt || true`,
    'done; }',
    'tick &',
    'TICKER=$!',
    'run_step() {',
    '  local index=$1 image=$2 command=$3 started code',
    '  echo "== step ${NAMES[$index]}"',
    '  CURRENT=$index started=$(date +%s)',
    '  if [ -n "$image" ]; then',
    `    docker run --rm -v "$RUN_DIR/work:/work" -w /work ${dockerEnv} "$image" bash -euo pipefail -c "$command" &`,
    '  else',
    '    bash -euo pipefail -c "$command" &',
    '  fi',
    '  STEP_PID=$!',
    '  code=0; wait "$STEP_PID" || code=$?',
    "  STEP_PID='' CURRENT=''",
    '  SECS[$index]=$(( $(date +%s) - started )) CODES[$index]=$code',
    '  if [ "$code" -ne 0 ]; then',
    '    STATE[$index]=failed FAILED=${NAMES[$index]}',
    '    echo "== step ${NAMES[$index]} failed with exit code $code after ${SECS[$index]}s"',
    '    exit "$code"',
    '  fi',
    '  STATE[$index]=passed',
    '  echo "== step ${NAMES[$index]} passed in ${SECS[$index]}s"',
    '  upload "$LOG" log.txt || true',
    '}',
    ...input.steps.map((s, index) => `run_step ${index} ${shellQuote(s.image ?? '')} ${shellQuote(s.run)}`),
    '',
  ];
  return lines.join('\n');
}
