import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { bundling } from './bundling.js';
import { shippedCatalogFile } from './shipped-catalog.js';

export interface ProvisionerFunctionProps {
  /** The folder under `lambdas/` holding its handler. */
  operation: string;
  timeoutSeconds?: number;
  memoryMb?: number;
  environment?: Record<string, string>;
  /** The catalog file; the bundle ships it validated, as catalog.json (`shippedCatalogFile`). */
  catalogPath?: string;
  /** More files shipped beside the bundle, under their own names (the console's file set). */
  extraFiles?: string[];
}

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * One Lambda per operation with the house defaults: Node 22 on arm64, bundled locally by esbuild
 * with the AWS SDK (minified, tree-shaken, source maps beside the bundle), its own log group with a retention, and its own role that
 * may write only to that log group. Grants are added by the constructs that own the resources.
 */
export class ProvisionerFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ProvisionerFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    const { alias, ...options } = bundling;
    const catalogFile = props.catalogPath && shippedCatalogFile(props.catalogPath);
    super(scope, id, {
      entry: `${root}lambdas/${props.operation}/index.ts`,
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: `${root}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMb ?? 512,
      timeout: Duration.seconds(props.timeoutSeconds ?? 29),
      role,
      logGroup,
      environment: {
        PROVISIONER_OPERATION: props.operation,
        ...props.environment,
      },
      bundling: {
        ...options,
        format: OutputFormat.ESM,
        esbuildArgs: { '--alias': Object.entries(alias).map(([from, to]) => `${from}=${to}`) },
        ...((props.catalogPath || props.extraFiles) && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_input: string, output: string) => [
              ...(catalogFile ? [`cp "${catalogFile}" "${output}/catalog.json"`] : []),
              ...(props.extraFiles ?? []).map((file) => `cp "${file}" "${output}/"`),
            ],
          },
        }),
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is the pinned runtime of the design card; moving on is a deliberate, tested change.',
    });
  }
}
