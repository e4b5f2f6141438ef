import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateLaunchTemplateCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';
import { Ec2ClusterCompute, tags } from '../../src/adapters/aws/ec2-compute.js';
import { ensureTable } from '../../src/adapters/local/dynalite.js';
import type { ClusterEntry } from '../../src/domain/catalog.js';
import { ManualClock } from '../support/dynamo.js';
import { type Moto, startMoto } from '../support/moto.js';

/** The catalog's AMI parameter: one SSM parameter per cluster version, the AMI id its value. */
const parameterTemplate = '/sliderule/ami/{version}';
const resolvePrefix = 'resolve:ssm:';

describe('resolve:ssm: AMI parameters, as the EC2 backend passes a version (against moto)', () => {
  let moto: Moto;
  let ec2: EC2Client;
  let ssm: SSMClient;

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new EC2Client(moto.clientConfig);
    ssm = new SSMClient(moto.clientConfig);
  });
  afterAll(async () => {
    ec2.destroy();
    ssm.destroy();
    await moto.stop();
  });

  /** The AMI an instance runs: AWS resolves `resolve:ssm:<name>` to the parameter's value at launch. */
  async function launchedImage(imageId: string): Promise<string> {
    if (!imageId.startsWith(resolvePrefix)) return imageId;
    // moto stores the ImageId as sent, unresolved; AWS documents the instance runs the parameter's value, so resolve it as AWS would.
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: imageId.slice(resolvePrefix.length) }));
    return Parameter?.Value ?? '';
  }

  it('launches each version with the AMI its parameter names, the launch template giving the rest', async () => {
    // Arrange: two AMIs, one parameter per version (typed aws:ec2:image, as AWS validates such values).
    const images = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], MaxResults: 5 }))).Images ?? [];
    const [templateAmi, v1Ami, v2Ami] = images.map((image) => image.ImageId ?? '');
    for (const [version, ami] of [['v1.0.0', v1Ami], ['v2.0.0', v2Ami]] as const) {
      await ssm.send(new PutParameterCommand({ Name: parameterTemplate.replace('{version}', version), Value: ami, Type: 'String', DataType: 'aws:ec2:image' }));
    }
    const template = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'sliderule', LaunchTemplateData: { ImageId: templateAmi, InstanceType: 't3.micro' } }));
    const cluster: ClusterEntry = {
      name: 'acme-dev',
      visibility: 'private',
      backend: { kind: 'ec2', launch_template: template.LaunchTemplate?.LaunchTemplateId ?? '', version: { kind: 'ami_parameter', name: parameterTemplate } },
    };
    const dynamo = new DynamoDBClient(moto.clientConfig);
    await ensureTable(dynamo, 'provisioner-moto');
    const compute = new Ec2ClusterCompute('Provisioner-moto', { table: new DynamoStore(dynamo, 'provisioner-moto', new ManualClock()), makeClient: () => ec2 });

    // Act
    await compute.deploy({ cluster, deploymentId: 'dep-v1', nodes: 1, version: 'v1.0.0' });
    await compute.deploy({ cluster, deploymentId: 'dep-v2', nodes: 1, version: 'v2.0.0' });

    // Assert: each instance runs its version's AMI, not the template's.
    const launched = async (deploymentId: string) => {
      const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${tags.deployment}`, Values: [deploymentId] }] }));
      return (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])[0];
    };
    const v1 = await launched('dep-v1');
    const v2 = await launched('dep-v2');
    expect(v1?.InstanceType).toBe('t3.micro');
    expect(await launchedImage(v1?.ImageId ?? '')).toBe(v1Ami);
    expect(await launchedImage(v2?.ImageId ?? '')).toBe(v2Ami);
    expect(v1Ami).not.toBe(templateAmi);
    dynamo.destroy();
  });
});
