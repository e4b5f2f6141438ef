import { Ec2RunMachines } from '../../adapters/aws/ec2-runner.js';
import { S3RunLogs } from '../../adapters/aws/s3-run-logs.js';
import { readEnv } from '../../config.js';
import { once } from '../../once.js';
import * as z from '../../zod.js';
import { managedBy } from './settings.js';

const bucket = () => readEnv({ PROVISIONER_RUN_BUCKET: z.string().check(z.minLength(3)) }).PROVISIONER_RUN_BUCKET;

/** The log bucket, for every run function. */
export const runLogs = once(() => new S3RunLogs(bucket()));

/** Spot instances with the runner's instance profile (only the functions that start or stop runs). */
export const runMachines = once(() => {
  const env = readEnv({
    PROVISIONER_RUN_PROFILE_ARN: z.string().check(z.startsWith('arn:')),
    PROVISIONER_RUN_ROLE_ID: z.string().check(z.minLength(1)),
    AWS_REGION: z.string().check(z.minLength(1)),
    PROVISIONER_RUN_SUBNET: z.optional(z.string().check(z.startsWith('subnet-'))),
  });
  return new Ec2RunMachines({
    bucket: bucket(),
    region: env.AWS_REGION,
    instanceProfileArn: env.PROVISIONER_RUN_PROFILE_ARN,
    runnerRoleId: env.PROVISIONER_RUN_ROLE_ID,
    subnetId: env.PROVISIONER_RUN_SUBNET,
    managedBy: managedBy(),
  });
});

export const runProviders = { runLogs, runMachines };
