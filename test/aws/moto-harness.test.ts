import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type Moto, startMoto } from '../support/moto.js';

describe('the moto harness', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(() => moto.stop());

  it('serves the real SSM wire protocol, and reset forgets what was written', async () => {
    const ssm = new SSMClient(moto.clientConfig);
    await ssm.send(new PutParameterCommand({ Name: '/provisioner/probe', Value: 'ami-123', Type: 'String' }));
    const read = await ssm.send(new GetParameterCommand({ Name: '/provisioner/probe' }));
    expect(read.Parameter?.Value).toBe('ami-123');
    await moto.reset();
    const after = await ssm.send(new DescribeParametersCommand({}));
    expect(after.Parameters ?? []).toEqual([]);
  });
});
