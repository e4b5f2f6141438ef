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
    PROVISIONER_RUN_SECRET_PREFIX: z.string().check(z.regex(/^\/[A-Za-z0-9_.\-/]+\/$/, 'must be an SSM path ending in /')),
    AWS_REGION: z.string().check(z.minLength(1)),
    /** Comma-separated subnet ids (CDK context `runSubnets`); the default VPC when unset. */
    PROVISIONER_RUN_SUBNET: z.optional(z.string().check(z.regex(/^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$/, 'must be subnet ids separated by commas'))),
    PROVISIONER_RUN_SECURITY_GROUP: z.optional(z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id'))),
  });
  return new Ec2RunMachines({
    bucket: bucket(),
    region: env.AWS_REGION,
    instanceProfileArn: env.PROVISIONER_RUN_PROFILE_ARN,
    runnerRoleId: env.PROVISIONER_RUN_ROLE_ID,
    secretPrefix: env.PROVISIONER_RUN_SECRET_PREFIX,
    subnetIds: env.PROVISIONER_RUN_SUBNET?.split(','),
    securityGroupId: env.PROVISIONER_RUN_SECURITY_GROUP,
    managedBy: managedBy(),
  });
});

export const runProviders = { runLogs, runMachines };
