import { afterAll, beforeAll, beforeEach, describe, it } from '@jest/globals';
import { DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import type { S3Event } from 'aws-lambda';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ec2RunMachines, ec2Hooks, runTag } from '../../src/adapters/aws/ec2-runner.js';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import { type LocalS3, startLocalS3 } from '../../src/adapters/local/s3-server.js';
import { parseCatalog } from '../../src/domain/catalog.js';
import { defaultRules } from '../../src/domain/clusters.js';
import { generateRunScript } from '../../src/domain/run-script.js';
import { systemCaller } from '../../src/domain/levels.js';
import { requestLog } from '../../src/log.js';
import { completionHandler } from '../../src/operations/runs/completion.js';
import { readRun, runView, type StartRunDeps, startRun } from '../../src/operations/runs/use-cases.js';
import { ManualClock, startTestStore } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { awsError } from '../support/fake-aws.js';
import type { LocalDynamo } from '../../src/adapters/local/dynalite.js';

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const schedulerClient = mockClient(SchedulerClient);
const bucket = 'provisioner-runs-123456789012-us-east-1';
const profile = 'arn:aws:iam::123456789012:instance-profile/provisioner-runner';
const roleId = 'AROA3XFRBF535PLBIFPI4';
const runner = new Ec2RunMachines(
  { bucket, region: 'us-east-1', instanceProfileArn: profile, runnerRoleId: roleId, managedBy: 'Provisioner-prod', secretPrefix: '/Provisioner-prod/runs/', retryDelaysMs: [1, 1, 1] },
  (sdk) => new sdk.EC2Client({ region: 'us-east-1' }),
  (sdk) => new sdk.SSMClient({ region: 'us-east-1' }),
);
const runId = '0b5c9a52-5a0e-4d3c-9a51-6f1f2d3e4a5b';
const script = { runId, ref: 'v4.5.1', repository: 'https://github.com/SlideRuleEarth/sliderule.git', steps: [{ name: 'clone', run: 'git clone -- "$RUN_REPOSITORY" src' }] };
const launch = { runId, script, instanceType: 'm6i.2xlarge', amiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', timeLimitMs: 7_200_000 };

beforeEach(() => {
  ec2.reset();
  ssm.reset();
  schedulerClient.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0abc1234def567890' } });
  ec2.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0abc1234def567890', RootDeviceName: '/dev/xvda' }] });
});

describe('EC2 runner', () => {
  it('launches one spot instance: one-time, terminated on interruption and on shutdown, the run profile, tags, the script as user data, the run id as client token', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0123456789abcdef0' }] });

    expect(await runner.launch(launch)).toEqual({ machine: 'i-0123456789abcdef0', writer: `${roleId}:i-0123456789abcdef0` });

    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: launch.amiParameter });
    expect(ec2).toHaveReceivedCommandTimes(RunInstancesCommand, 1);
    const input = ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      ImageId: 'ami-0abc1234def567890',
      InstanceType: 'm6i.2xlarge',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: runId,
      InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } },
      InstanceInitiatedShutdownBehavior: 'terminate',
      IamInstanceProfile: { Arn: profile },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'provisioner:managed', Value: 'Provisioner-prod' }, { Key: runTag, Value: runId }] },
        { ResourceType: 'volume', Tags: [{ Key: 'provisioner:managed', Value: 'Provisioner-prod' }, { Key: runTag, Value: runId }] },
        // A spot launch also creates a spot request: tagged alike, so IAM can require the tags on it too.
        { ResourceType: 'spot-instances-request', Tags: [{ Key: 'provisioner:managed', Value: 'Provisioner-prod' }, { Key: runTag, Value: runId }] },
      ],
      MetadataOptions: { HttpTokens: 'required' },
    });
    const userData = Buffer.from(input?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toBe(generateRunScript(script, ec2Hooks({ bucket, region: 'us-east-1', runId, timeLimitMs: launch.timeLimitMs })));
    // It uploads as its aws:userid (<role id>:<instance id>), the one prefix IAM lets it write.
    expect(userData).toContain(`writer() { aws --region 'us-east-1' sts get-caller-identity --query UserId --output text; }`);
    expect(userData).toContain(`upload() { aws --region 'us-east-1' s3 cp --only-show-errors "$1" 's3://${bucket}/runs/${runId}/'"$RUN_WRITER/$2"; }`);
    expect(userData).toContain('power_off() { shutdown -h now; }');
  });

  it('gives the root device an encrypted gp3 volume of the catalog size, deleted with the instance, and the script powers off by itself 5 minutes after the time limit', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0123456789abcdef0' }] });
    await runner.launch({ ...launch, volumeGb: 250 });
    const input = ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    expect(input?.BlockDeviceMappings).toEqual([{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 250, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }]);
    const userData = Buffer.from(input?.UserData ?? '', 'base64').toString('utf8');
    // 2 h + 5 min: the machine goes even when nothing outside it can stop it.
    expect(userData.split('\n').slice(0, 4)).toContain('shutdown -h +125');
  });

  it('the cluster JWT never sits in user data: a SecureString parameter tagged with the instance holds it, and the script reads it, deletes it, then exports it', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0123456789abcdef0' }] });
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJnaXRodWI6YWxpY2UifQ.c2lnbmF0dXJl';
    await runner.launch({ ...launch, script: { ...script, env: { CLUSTER_URL: 'https://acme.example.org' }, secretEnv: { CLUSTER_TOKEN: jwt } } });
    const input = ec2.commandCalls(RunInstancesCommand)[0]?.args[0].input;
    const userData = Buffer.from(input?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).not.toContain(jwt);
    expect(userData).not.toContain(Buffer.from(jwt).toString('base64'));
    const parameter = `/Provisioner-prod/runs/${runId}`;
    expect(ssm).toHaveReceivedCommandWith(PutParameterCommand, {
      Name: parameter,
      Type: 'SecureString',
      Value: `CLUSTER_TOKEN=${Buffer.from(jwt).toString('base64')}`,
      Tags: expect.arrayContaining([{ Key: 'provisioner:instance', Value: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0' }]),
    });
    const loadSecrets = userData.split('\n').find((line) => line.startsWith('load_secrets() {')) ?? '';
    const read = loadSecrets.indexOf(`ssm get-parameter --with-decryption --name '${parameter}'`);
    const deleted = loadSecrets.indexOf(`ssm delete-parameter --name '${parameter}'`);
    expect(read).toBeGreaterThan(0);
    expect(deleted).toBeGreaterThan(read);
    expect(loadSecrets.indexOf('export CLUSTER_TOKEN=')).toBeGreaterThan(deleted);
  });

  it('the parameter is gone once the run ends, and a stop retries a terminate that answers NotFound right after the launch', async () => {
    ec2.on(TerminateInstancesCommand)
      .rejectsOnce(awsError('InvalidInstanceID.NotFound', 400))
      .rejectsOnce(awsError('InvalidInstanceID.NotFound', 400))
      .resolves({});
    await runner.stop(runId, 'i-0123456789abcdef0');
    expect(ec2).toHaveReceivedCommandTimes(TerminateInstancesCommand, 3);
    expect(ssm).toHaveReceivedCommandWith(DeleteParameterCommand, { Name: `/Provisioner-prod/runs/${runId}` });
  });

  it('every EC2 and SSM call is guarded: throttling is 503 dependency_unavailable', async () => {
    ec2.on(RunInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));
    await expect(runner.launch(launch)).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ec2.on(TerminateInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));
    await expect(runner.stop(runId, 'i-0123456789abcdef0')).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ec2.reset();
    ssm.on(GetParameterCommand).rejects(awsError('ThrottlingException', 400));
    await expect(runner.launch(launch)).rejects.toMatchObject({ code: 'dependency_unavailable' });
    ssm.on(DeleteParameterCommand).rejects(awsError('ThrottlingException', 400));
    await expect(runner.stop(runId, 'i-0123456789abcdef0')).rejects.toMatchObject({ code: 'dependency_unavailable' });
  });

  it('no spot capacity is a refusal with the reason, not an error', async () => {
    ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('There is no Spot capacity available that matches your request.'), { name: 'InsufficientInstanceCapacity' }));
    expect(await runner.launch(launch)).toEqual({ refused: expect.stringContaining('InsufficientInstanceCapacity') });
  });

  it('stops the recorded instance, or finds it by the run tag', async () => {
    await runner.stop(runId, 'i-0123456789abcdef0');
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0123456789abcdef0'] });
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0fedcba9876543210' }] }] });
    await runner.stop(runId);
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { Filters: expect.arrayContaining([{ Name: `tag:${runTag}`, Values: [runId] }]) });
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0fedcba9876543210'] });
  });
});

describe('runs in the AWS configuration (EC2, SSM and Scheduler mocked, S3 on s3rver)', () => {
  let dynamo: LocalDynamo;
  let s3: LocalS3;
  let deps: StartRunDeps;
  const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
  const log = requestLog('test', 'runs');
  const admin = { caller: { sub: 'github:alice', login: 'alice', level: 'administrator' as const, orgs: ['acme'] }, requestId: 'r1', log };

  beforeAll(async () => {
    const started = await startTestStore(clock);
    dynamo = started.dynamo;
    s3 = await startLocalS3(mkdtempSync(join(tmpdir(), 's3-')), bucket);
    const example = parseCatalog(readFileSync(new URL('../../catalog/example.json', import.meta.url), 'utf8'), 'example.json');
    // prod has no per-cluster plan, so it gets the seed's sliderule plans.
    const catalog = { ...example, clusters: [...example.clusters, { name: 'prod', visibility: 'public' as const, backend: { kind: 'local' as const } }] };
    deps = {
      store: started.store,
      clock,
      catalog,
      scheduler: new EventBridgeScheduler(
        { groupName: 'provisioner', roleArn: 'arn:aws:iam::123456789012:role/scheduler', targets: { 'run-timeout': 'arn:aws:lambda:us-east-1:123456789012:function:run-timeout' } },
        (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
      ),
      compute: new FakeCompute(),
      clusterRules: defaultRules,
      runLogs: s3.logs,
      runMachines: runner,
      keyRing: { signingKey: () => Promise.reject(new Error('a release signs nothing')) },
      tokenSettings: { issuer: 'https://provisioner.example.org', userTokenTtlSeconds: 3600, clusterTokenTtlSeconds: 900 },
    };
  });
  afterAll(async () => {
    await s3.close();
    await dynamo.close();
  });

  /** The S3 event of an object put under the log bucket (S3 URL-encodes the key: `:` is `%3A`). */
  const created = (key: string) => ({ Records: [{ s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } } }] }) as unknown as S3Event;
  const handler = () => completionHandler(Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, () => v])) as never);

  it('a RELEASE starts its instance and schedules its timeout at the time limit; result.json arriving ends it failed, naming the step, and terminates the instance', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0aaaabbbbccccdddd' }] });
    const run = await startRun(deps, admin, 'release', 'prod', 'v4.5.1');
    const writer = `${roleId}:i-0aaaabbbbccccdddd`;
    expect(run).toMatchObject({ status: 'running', kind: 'release', plan: 'sliderule-release', machine: 'i-0aaaabbbbccccdddd', writer, deadline: '2026-11-25T15:00:00.000Z' });
    expect(schedulerClient).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Name: `run-${run.id}`,
      ScheduleExpression: 'at(2026-11-25T15:00:00)',
      Target: expect.objectContaining({ Arn: 'arn:aws:lambda:us-east-1:123456789012:function:run-timeout', Input: JSON.stringify({ run_id: run.id }) }),
    });

    await s3.logs.put(
      `runs/${run.id}/${writer}/result.json`,
      JSON.stringify({ run_id: run.id, exit_code: 2, steps: [{ name: 'setup', status: 'passed', seconds: 40, exit_code: 0 }, { name: 'clone', status: 'failed', seconds: 3, exit_code: 2 }, { name: 'build-cluster', status: 'skipped', seconds: 0 }], failed_step: 'clone' }),
    );
    expect(await handler()(created(`runs/${run.id}/${writer}/result.json`))).toEqual({ completed: [`${run.id}:failed`] });
    expect(ec2).toHaveReceivedCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0aaaabbbbccccdddd'] });
    expect(schedulerClient).toHaveReceivedCommandWith(DeleteScheduleCommand, { Name: `run-${run.id}`, GroupName: 'provisioner' });
  });

  it('a result written under another instance\'s prefix does not end the run, nor stop anything', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0aaaabbbbcccc0001' }] });
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    // Another run's instance may write under its own aws:userid for any run id: IAM cannot tell run ids apart.
    const intruder = `${roleId}:i-0eeeeffff00001111`;
    await s3.logs.put(`runs/${run.id}/${intruder}/result.json`, JSON.stringify({ run_id: run.id, exit_code: 0, steps: [{ name: 'build-cluster', status: 'passed', seconds: 1, exit_code: 0 }] }));

    expect(await handler()(created(`runs/${run.id}/${intruder}/result.json`))).toEqual({ completed: [] });
    expect(await handler()(created(`runs/${run.id}/result.json`))).toEqual({ completed: [] });

    const view = await runView(deps, await readRun(deps, admin, run.id));
    expect(view).toMatchObject({ status: 'running', steps: [] });
    // The log link is the recorded instance's, never the intruder's.
    const writer = `${roleId}:i-0aaaabbbbcccc0001`;
    expect(new URL(view.log_url ?? '').pathname).toBe(`/${bucket}/runs/${run.id}/${encodeURIComponent(writer)}/log.txt`);
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);

    // The run's own instance still ends it.
    await s3.logs.put(`runs/${run.id}/${writer}/result.json`, JSON.stringify({ run_id: run.id, exit_code: 1, steps: [{ name: 'build-cluster', status: 'failed', seconds: 1, exit_code: 1 }] }));
    expect(await handler()(created(`runs/${run.id}/${writer}/result.json`))).toEqual({ completed: [`${run.id}:failed`] });
  });

  it('spot capacity refused: the run is failed with that reason, not stuck queued', async () => {
    ec2.on(RunInstancesCommand).rejects(Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' }));
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const run = await startRun(deps, admin, 'release', 'prod', 'main');
    expect(run).toMatchObject({ status: 'failed', reason: expect.stringContaining('InsufficientInstanceCapacity') });
    // Nothing was started, and the cleanup made sure of it.
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, { Filters: expect.arrayContaining([{ Name: `tag:${runTag}`, Values: [run.id] }]) });
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('the root volume is the catalog\'s runs.volume_gb (100 GB when it names none)', async () => {
    ec2.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: 'i-0aaaabbbbcccc0002' }] });
    const volumeOf = () => ec2.commandCalls(RunInstancesCommand).at(-1)?.args[0].input.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize;
    await startRun(deps, admin, 'release', 'prod', 'main');
    expect(volumeOf()).toBe(100);
    const catalog = deps.catalog;
    try {
      deps.catalog = parseCatalog(JSON.stringify({ ...catalog, runs: { ...catalog.runs, volume_gb: 300 } }), 'catalog.json');
      await startRun(deps, admin, 'release', 'prod', 'main');
      expect(volumeOf()).toBe(300);
    } finally {
      deps.catalog = catalog;
    }
  });

  it('only administrators start runs, and an unsafe ref never reaches the runner', async () => {
    const member = { ...admin, caller: { sub: 'github:olga', login: 'olga', level: 'org_member' as const, orgs: ['acme'] } };
    await expect(startRun(deps, member, 'release', 'prod', 'main')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(startRun(deps, { ...admin, caller: systemCaller('system') }, 'release', 'prod', '$(id)')).rejects.toMatchObject({ code: 'invalid_request' });
    expect(ec2).not.toHaveReceivedCommand(RunInstancesCommand);
  });
});
