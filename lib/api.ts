import { CfnOutput, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type Operation, routeEntries } from '../src/api/routes.js';
import { ProvisionerFunction } from './provisioner-function.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleFileSet } from '../src/runtime/aws/console.js';
import { buildConsole } from '../web/build.js';

export interface ApiProps {
  table: Table;
  catalogPath: string;
  /** Settings every function gets (GitHub URLs, token lifetimes, ...). */
  environment: Record<string, string>;
  /** The token issuer; default: the API's own endpoint. */
  issuer?: string;
  /** The stage's steady request rate across all callers, per second (default `defaultThrottle.rate`). */
  throttleRate?: number;
  /** The stage's burst (default `defaultThrottle.burst`). */
  throttleBurst?: number;
}

/**
 * The stage's limits across all callers: a ceiling on what a flood costs (Lambda concurrency, table
 * writes) before the per-caller limits of the catalog, which are counted inside the functions.
 */
export const defaultThrottle = { rate: 100, burst: 200 };

/**
 * The HTTP API: one route and one function per entry of the route table, and a `$default` fallback.
 * What each function may touch is granted from `operationAccess` by the stack, once every resource exists.
 */
export class Api extends Construct {
  readonly httpApi: HttpApi;
  readonly functions = new Map<Operation | 'fallback', ProvisionerFunction>();
  /** What every function of the API gets (the non-route functions too). */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const fallback = new ProvisionerFunction(this, 'fallback', { operation: 'fallback', memoryMb: 256 });
    this.functions.set('fallback', fallback);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Provisioner API',
      defaultIntegration: new HttpLambdaIntegration('fallback', fallback),
    });
    const environment = (this.environment = {
      ...props.environment,
      PROVISIONER_TABLE: props.table.tableName,
      PROVISIONER_ISSUER: props.issuer ?? this.httpApi.apiEndpoint,
    });

    // The console's files are built once per synth and shipped beside its functions' bundles.
    const consoleFiles = writeConsoleFileSet();
    for (const [operation, spec] of routeEntries) {
      const fn = new ProvisionerFunction(this, operation, {
        operation,
        timeoutSeconds: spec.timeoutSeconds,
        memoryMb: spec.memoryMb,
        catalogPath: props.catalogPath,
        environment,
        ...(spec.file && { extraFiles: [consoleFiles] }),
      });
      this.httpApi.addRoutes({ path: spec.path, methods: [HttpMethod[spec.method]], integration: new HttpLambdaIntegration(operation, fn) });
      this.functions.set(operation, fn);
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.throttleRate ?? defaultThrottle.rate,
      throttlingBurstLimit: props.throttleBurst ?? defaultThrottle.burst,
    };
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        request_id: '$context.requestId',
        ip: '$context.identity.sourceIp',
        method: '$context.httpMethod',
        route: '$context.routeKey',
        status: '$context.status',
        latency_ms: '$context.responseLatency',
        integration_error: '$context.integrationErrorMessage',
      }),
    };
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Authorization is per operation inside each function (user JWT verified with pinned algorithm, issuer and audience); several routes are public by design.',
    });
    new CfnOutput(this, 'Url', { value: this.httpApi.apiEndpoint, description: 'Base URL of the Provisioner API' });
  }
}

/** Builds the console (web/) into the one file its functions read (name → text), in a fresh folder. */
function writeConsoleFileSet(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'provisioner-console-')), consoleFileSet);
  writeFileSync(path, JSON.stringify(Object.fromEntries(buildConsole())));
  return path;
}
