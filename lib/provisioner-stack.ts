import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Catalog, parseCatalog } from '../src/domain/catalog.js';
import { Api } from './api.js';
import { Alarms } from './alarms.js';
import { DeadLetters } from './dead-letters.js';
import { Drift } from './drift.js';
import { grantAccess } from './grants.js';
import { Identity } from './identity.js';
import { type FunctionName, operationAccess } from './operation-access.js';
import type { ProvisionerFunction } from './provisioner-function.js';
import { Schedules } from './schedules.js';
import { State } from './state.js';
// workspaces
import { Workspaces } from './workspaces.js';
// workbenches
import { grantWorkbenches } from './workbenches.js';
// runs
import { Runs } from './runs.js';
// notifications
import { Notifications } from './notifications.js';

export interface ProvisionerSettings {
  /** The catalog file shipped with the stack (default: catalog/example.json). */
  catalogPath?: string;
  /** Token issuer URL, e.g. a custom domain (default: the API endpoint). */
  issuer?: string;
  githubApiUrl?: string;
  /** GitHub's web base for the console's device login (default https://github.com). */
  githubUrl?: string;
  /** The OAuth app of the console's device login; without it the console offers only a pasted token. */
  githubClientId?: string;
  githubOidcIssuer?: string;
  oidcAudience?: string;
  userTokenTtl?: string;
  clusterTokenTtl?: string;
  /** The API stage's request rate across all callers, per second (default 100). */
  apiThrottleRate?: number;
  /** The API stage's burst across all callers (default 200). */
  apiThrottleBurst?: number;
  /** An existing SNS topic for the stack's alarms (default: the stack creates one). */
  alarmTopicArn?: string;
  /** An e-mail address subscribed to the created alarm topic (default: none). */
  alarmEmail?: string;
  // runs
  /** Subnets run instances start in (the default VPC when none); a TEST run must reach its cluster's endpoint from there. */
  runSubnets?: string[];
  /** The run instances' security group (the VPC's default when none). */
  runSecurityGroup?: string;
  /** Create the EC2 Spot service-linked role with the stack (default true; false when the account already has it). */
  spotServiceLinkedRole?: boolean;
}

const exampleCatalog = fileURLToPath(new URL('../catalog/example.json', import.meta.url));

/** The SSM parameters EC2 clusters take their AMI from (`{version}` as any name): the only ones a launch may resolve. */
function amiParameters(catalog: Catalog): string[] {
  return catalog.clusters.flatMap((c) => (c.backend.kind === 'ec2' && c.backend.version?.kind === 'ami_parameter' ? [c.backend.version.name.replace('{version}', '*')] : []));
}

/** The IAM roles of the instance profiles the catalog's launch templates name: the only roles a launch may pass. */
function instanceRoles(catalog: Catalog): string[] {
  return [...new Set(catalog.clusters.flatMap((c) => (c.backend.kind === 'ec2' ? (c.backend.instance_roles ?? []) : [])))];
}

/** Provisioner: the stateful table and keys, the stateless API on top of them, and its timed actions. */
export class ProvisionerStack extends Stack {
  readonly state: State;
  readonly identity: Identity;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly drift: Drift;
  // runs
  readonly runs: Runs;

  constructor(scope: Construct, id: string, props: StackProps & { settings?: ProvisionerSettings } = {}) {
    super(scope, id, props);
    const settings = props.settings ?? {};
    const catalogPath = resolve(settings.catalogPath ?? exampleCatalog);
    // A bad catalog fails the synth, naming the field, rather than every cold start.
    const catalog = parseCatalog(readFileSync(catalogPath, 'utf8'), catalogPath);

    this.state = new State(this, 'State');
    const deadLetters = new DeadLetters(this, 'DeadLetters');
    new Alarms(this, 'Alarms', { alarmTopicArn: settings.alarmTopicArn, alarmEmail: settings.alarmEmail, alarms: [deadLetters.alarm] });
    this.identity = new Identity(this, 'Identity', { table: this.state.table, catalogPath, deadLetters });
    const environment: Record<string, string> = {};
    if (settings.githubApiUrl) environment.PROVISIONER_GITHUB_API_URL = settings.githubApiUrl;
    if (settings.githubUrl) environment.PROVISIONER_GITHUB_URL = settings.githubUrl;
    if (settings.githubClientId) environment.PROVISIONER_GITHUB_CLIENT_ID = settings.githubClientId;
    if (settings.githubOidcIssuer) environment.PROVISIONER_GITHUB_OIDC_ISSUER = settings.githubOidcIssuer;
    if (settings.oidcAudience) environment.PROVISIONER_OIDC_AUDIENCE = settings.oidcAudience;
    if (settings.userTokenTtl) environment.PROVISIONER_USER_TOKEN_TTL = settings.userTokenTtl;
    if (settings.clusterTokenTtl) environment.PROVISIONER_CLUSTER_TOKEN_TTL = settings.clusterTokenTtl;
    this.api = new Api(this, 'Api', {
      table: this.state.table,
      catalogPath,
      environment,
      issuer: settings.issuer,
      throttleRate: settings.apiThrottleRate,
      throttleBurst: settings.apiThrottleBurst,
    });
    this.schedules = new Schedules(this, 'Schedules', { functions: this.api.functions, catalogPath, environment: this.api.environment, deadLetters });
    this.drift = new Drift(this, 'Drift', { catalogPath, environment: this.api.environment, deadLetters });
    // Every function's access, from the one table, once every resource it may name exists.
    const functions = new Map<FunctionName, ProvisionerFunction>([...this.api.functions, ...this.schedules.functions, ['instance-state', this.drift.instanceState]]);
    // notifications
    const notifications = new Notifications(this, 'Notifications');
    const resources = {
      table: this.state.table,
      keysSecret: this.identity.keysSecret,
      schedules: this.schedules,
      amiParameters: amiParameters(catalog),
      instanceRoles: instanceRoles(catalog),
      webhookSecret: notifications.webhookSecret,
    };
    for (const [name, fn] of functions) grantAccess(fn, operationAccess[name], resources);
    // workspaces
    const workspaces = new Workspaces(this, 'Workspaces', { catalog });
    for (const [name, fn] of functions) {
      const level = operationAccess[name].workspaces;
      if (level) workspaces.grant(fn, level);
    }
    // workbenches
    grantWorkbenches(functions, catalogPath);
    new CfnOutput(this, 'RotateKeysFunction', {
      value: this.identity.rotateKeys.functionName,
      description: 'aws lambda invoke --function-name <this> --payload \'{"action":"rotate"}\' --cli-binary-format raw-in-base64-out /dev/stdout',
    });
    // runs
    const logExpiryDays = catalog.runs?.log_expiry_days ?? 90;
    this.runs = new Runs(this, 'Runs', {
      table: this.state.table,
      schedules: this.schedules,
      catalogPath,
      environment: this.api.environment,
      logExpiryDays,
      runsConfig: catalog.runs,
      subnetIds: settings.runSubnets,
      securityGroupId: settings.runSecurityGroup,
      spotServiceLinkedRole: settings.spotServiceLinkedRole,
    });
    for (const [name, fn] of functions) this.runs.grant(fn, operationAccess[name].runs);
    // S3 invokes the run completion asynchronously: a completion that keeps failing leaves its event in the queue.
    deadLetters.receiveFailures(this.runs.completed);
    new CfnOutput(this, 'RunLogBucket', { value: this.runs.bucket.bucketName, description: 'Where run logs and results are kept (runs/<id>/)' });
  }
}
