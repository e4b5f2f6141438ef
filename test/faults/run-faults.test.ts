import { afterAll, beforeAll, beforeEach, describe, it } from '@jest/globals';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so this file uses that one.
import 'aws-sdk-client-mock-jest';
import { readFileSync } from 'node:fs';
import type { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { Ec2RunMachines } from '../../src/adapters/aws/ec2-runner.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import { S3RunLogs } from '../../src/adapters/aws/s3-run-logs.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';
import { type Catalog, parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { systemCaller } from '../../src/domain/levels.js';
import { completeRun, cancelRun, readRun, type StartRunDeps, startRun, sweepRuns, timeOutRun } from '../../src/operations/runs/use-cases.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { awsError, FakeEc2 } from '../support/fake-aws.js';

/**
 * Issue 21: the run adapters (EC2, SSM, S3, Scheduler behind aws-sdk-client-mock; DynamoDB on
 * dynalite) failing under the run use cases. A failing dependency is 503 `dependency_unavailable`
 * (never a 500, never the cleanup's error in place of the first); the run's state stays one that a
 * retry, the timeout or the janitor's sweep settles; no run instance outlives its run.
 */
const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
const ec2 = new FakeEc2(clock);
const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const scheduler = mockClient(SchedulerClient);
const log = { debug() {}, info() {}, warn() {}, error() {} };
const admin = { caller: { sub: 'github:alice', login: 'alice', level: 'administrator' as const, orgs: ['acme'] }, requestId: 'r1', log };
const janitor = { caller: systemCaller('scheduler'), requestId: 'janitor', log };
const roleId = 'AROA3XFRBF535PLBIFPI4';
let dynamo: LocalDynamo;
let store: DynamoStore;
let deps: StartRunDeps;

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  const example = parseCatalog(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8'), 'example.json');
  const catalog: Catalog = { ...example, clusters: [...example.clusters, { name: 'prod', visibility: 'public', backend: { kind: 'local' } }] };
  deps = {
    store,
    clock,
    catalog,
    scheduler: new EventBridgeScheduler(
      { groupName: 'provisioner', roleArn: 'arn:aws:iam::123456789012:role/scheduler', targets: { 'run-timeout': 'arn:aws:lambda:us-east-1:123456789012:function:run-timeout' } },
      (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
    ),
    runLogs: new S3RunLogs('logs', (sdk) => new sdk.S3Client({ region: 'us-east-1' })),
    runMachines: new Ec2RunMachines(
      {
        bucket: 'logs',
        region: 'us-east-1',
        instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/runner',
        runnerRoleId: roleId,
        managedBy: 'Provisioner',
        secretPrefix: '/Provisioner/runs/',
        retryDelaysMs: [1, 1],
      },
      (sdk) => new sdk.EC2Client({ region: 'us-east-1' }),
      (sdk) => new sdk.SSMClient({ region: 'us-east-1' }),
    ),
    compute: new FakeCompute(),
    clusterRules: defaultRules,
    keyRing: { signingKey: () => Promise.reject(new Error('a release signs nothing')) },
    tokenSettings: { issuer: 'https://provisioner.example.org', userTokenTtlSeconds: 3600, clusterTokenTtlSeconds: 900 },
  };
});
afterAll(() => dynamo.close());

beforeEach(() => {
  ec2.install();
  ec2.instances.clear();
  ec2.faults.clear();
  ec2.mock.on(DescribeImagesCommand).resolves({ Images: [{ RootDeviceName: '/dev/xvda' }] });
  ssm.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0abc1234def567890' } });
  ssm.on(PutParameterCommand).resolves({});
  ssm.on(DeleteParameterCommand).resolves({});
  s3.reset();
  scheduler.reset();
});

const runIdOf = (error: unknown) => (error as { details?: { run_id?: string } }).details?.run_id ?? '';
const throttled = () => awsError('RequestLimitExceeded', 503);

describe('run faults', () => {
  it('EC2 throttled at the launch and at its cleanup: 503 with Retry-After (not the cleanup\'s error), the run failed, and the sweep terminates what the launch started', async () => {
    // The launch's answer is lost after the instance started; every cleanup call is throttled too.
    ec2.faults.next('RunInstances', throttled(), { when: 'after' });
    ec2.faults.next('TerminateInstances', throttled());
    const error = await startRun(deps, admin, 'release', 'prod', 'main').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, code: 'backend_unavailable', headers: { 'retry-after': expect.any(String) } });
    const run = await readRun(deps, admin, runIdOf(error));
    expect(run).toMatchObject({ status: 'failed', reason: expect.stringContaining('could not start') });
    expect(ec2.alive()).toHaveLength(1);

    // The janitor's sweep ends what the run no longer wants (found by its run tag).
    expect(await sweepRuns(deps, janitor)).toEqual([run.id]);
    expect(ec2.alive()).toEqual([]);
    expect(ssm).toHaveReceivedCommandWith(DeleteParameterCommand, { Name: `/Provisioner/runs/${run.id}` });
  });

  it('a cancel whose terminate is throttled still answers: the run is cancelled, and the sweep stops its instance', async () => {
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    ec2.faults.next('TerminateInstances', throttled());
    expect(await cancelRun(deps, admin, run.id)).toMatchObject({ status: 'cancelled' });
    expect(ec2.alive().map((i) => i.id)).toEqual([run.machine]);
    expect(await sweepRuns(deps, janitor)).toEqual([run.id]);
    expect(ec2.alive()).toEqual([]);
  });

  it('the sweep leaves the instances of runs still going', async () => {
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    expect(await sweepRuns(deps, janitor)).toEqual([]);
    expect(ec2.alive().map((i) => i.id)).toEqual([run.machine]);
    await cancelRun(deps, admin, run.id);
  });

  it('S3 throttled when the result lands: 503 (the S3 event is retried), the run still running', async () => {
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    s3.on(GetObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(completeRun(deps, run.id, `${roleId}:${run.machine}`, 'r2', log)).rejects.toMatchObject({ code: 'dependency_unavailable' });
    expect(await readRun(deps, admin, run.id)).toMatchObject({ status: 'running' });
    await cancelRun(deps, admin, run.id);
  });

  it('the timeout firing 59 s early is due: the run is timed out', async () => {
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    clock.set(new Date(Date.parse(run.deadline ?? '') - 59_000).toISOString());
    expect(await timeOutRun(deps, janitor, run.id)).toBe('timed_out');
    expect(ec2.alive()).toEqual([]);
  });

  it('a timeout firing long before the deadline (none of its schedules does) leaves the run going', async () => {
    clock.set('2026-11-25T12:00:00.000Z');
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    clock.advance(10 * 60_000);
    expect(await timeOutRun(deps, janitor, run.id)).toBe('running');
    expect(ec2.alive().map((i) => i.id)).toEqual([run.machine]);
    await cancelRun(deps, admin, run.id);
  });
});
