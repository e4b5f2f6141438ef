import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ListTagsForResourceCommand, SSMClient } from '@aws-sdk/client-ssm';
import { spawnSync } from 'node:child_process';
import { Ec2RunMachines, ec2Hooks, encodeSecrets, runTag, secretInstanceTag } from '../../src/adapters/aws/ec2-runner.js';
import { generateRunScript } from '../../src/domain/run-script.js';
import { type Moto, startMoto } from '../support/moto.js';

/**
 * The EC2 runner against moto: the real SDK's RunInstances, DescribeImages, SSM parameters and
 * TerminateInstances. moto evaluates no IAM: the per-instance condition is proven by the stack's
 * template (test/infra/runs-iam.test.ts).
 */
const amiParameter = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJnaXRodWI6YWxpY2UifQ.c2lnbmF0dXJl';
const runId = '7f0c2b8e-1d2a-4b3c-9d4e-5f6a7b8c9d0e';
const script = { runId, ref: 'v4.5.1', repository: 'https://github.com/acme/app.git', steps: [{ name: 'clone', run: 'git clone -- "$RUN_REPOSITORY" src' }] };

describe('Ec2RunMachines on moto', () => {
  let moto: Moto;
  let ec2: EC2Client;
  let ssm: SSMClient;
  let runner: Ec2RunMachines;
  beforeAll(async () => {
    moto = await startMoto();
    // The instance profile RunInstances names must exist (IAM's query API: the SDK's IAM client is not a dependency).
    const iam = await fetch(moto.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request' },
      body: 'Action=CreateInstanceProfile&InstanceProfileName=runner&Version=2010-05-08',
    });
    if (!iam.ok) throw new Error(`moto CreateInstanceProfile answered ${iam.status}`);
    ec2 = new EC2Client(moto.clientConfig);
    ssm = new SSMClient(moto.clientConfig);
    runner = new Ec2RunMachines(
      {
        bucket: 'provisioner-runs-test',
        region: moto.region,
        instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/runner',
        runnerRoleId: 'AROA3XFRBF535PLBIFPI4',
        managedBy: 'Provisioner',
        secretPrefix: '/Provisioner/runs/',
      },
      (sdk) => new sdk.EC2Client(moto.clientConfig),
      (sdk) => new sdk.SSMClient(moto.clientConfig),
    );
  });
  afterAll(() => moto.stop());

  const instanceOf = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
  const parameter = `/Provisioner/runs/${runId}`;

  it('launches a spot instance: user data is the script with no token, IMDSv2, tags, an encrypted gp3 root volume; the token waits in a parameter tagged with the instance', async () => {
    const outcome = await runner.launch({ runId, script: { ...script, secretEnv: { CLUSTER_TOKEN: jwt } }, instanceType: 'm6i.large', amiParameter, timeLimitMs: 3_600_000, volumeGb: 120 });
    if (!('machine' in outcome)) throw new Error(`refused: ${outcome.refused}`);
    const id = outcome.machine;

    const userData = (await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }))).UserData?.Value ?? '';
    const decoded = Buffer.from(userData, 'base64').toString('utf8');
    expect(decoded).toBe(
      generateRunScript({ ...script, secretEnv: { CLUSTER_TOKEN: jwt } }, ec2Hooks({ bucket: 'provisioner-runs-test', region: moto.region, runId, timeLimitMs: 3_600_000, secretParameter: parameter, secretNames: ['CLUSTER_TOKEN'] })),
    );
    expect(decoded).not.toContain(jwt);
    expect(decoded).not.toContain(Buffer.from(jwt).toString('base64'));

    const instance = await instanceOf(id);
    expect(instance).toMatchObject({ InstanceLifecycle: 'spot', MetadataOptions: { HttpTokens: 'required' } });
    expect(instance?.Tags).toEqual(expect.arrayContaining([{ Key: 'provisioner:managed', Value: 'Provisioner' }, { Key: runTag, Value: runId }]));
    expect(instance?.BlockDeviceMappings).toEqual([expect.objectContaining({ DeviceName: '/dev/xvda', Ebs: expect.objectContaining({ DeleteOnTermination: true }) })]);
    const volumeId = instance?.BlockDeviceMappings?.[0]?.Ebs?.VolumeId ?? '';
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes?.[0]).toMatchObject({ Size: 120, VolumeType: 'gp3', Encrypted: true });

    const stored = await ssm.send(new GetParameterCommand({ Name: parameter, WithDecryption: true }));
    expect(stored.Parameter).toMatchObject({ Type: 'SecureString', Value: encodeSecrets({ CLUSTER_TOKEN: jwt }) });
    const tagged = await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: parameter }));
    expect(tagged.TagList).toEqual(expect.arrayContaining([{ Key: secretInstanceTag, Value: `arn:aws:ec2:${moto.region}:123456789012:instance/${id}` }]));

    expect(await runner.alive()).toEqual([{ runId, machine: id }]);
  });

  it('load_secrets reads the parameter with the AWS CLI, deletes it, and exports the token (no file written)', () => {
    const hooks = ec2Hooks({ bucket: 'provisioner-runs-test', region: moto.region, runId, timeLimitMs: 3_600_000, secretParameter: parameter, secretNames: ['CLUSTER_TOKEN'] });
    const bash = spawnSync('bash', ['-c', `set -euo pipefail\nload_secrets() { ${hooks.loadSecrets}; }\nload_secrets\nprintf '%s' "$CLUSTER_TOKEN"`], {
      encoding: 'utf8',
      // It waits for a parameter that is not there yet: bounded here, where it is there already.
      timeout: 20_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ENDPOINT_URL: moto.endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    if (bash.error) throw new Error(`bash or the AWS CLI is missing (the runner's AMI has both): ${bash.error.message}`);
    expect(bash.stderr).toBe('');
    expect(bash.stdout).toBe(jwt);
    // The door closed once used.
    return expect(ssm.send(new GetParameterCommand({ Name: parameter }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
  });

  it('stop terminates the instance and deletes a parameter still there; a stop again is done', async () => {
    const [alive] = await runner.alive();
    const machine = alive?.machine ?? '';
    await runner.stop(runId, machine);
    expect((await instanceOf(machine))?.State?.Name).toMatch(/shutting-down|terminated/);
    expect(await runner.alive()).toEqual([]);
    await runner.stop(runId, machine);
    await runner.stop(runId);
  });
});
