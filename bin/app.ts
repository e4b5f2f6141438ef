#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ProvisionerStack } from '../lib/provisioner-stack.js';

const app = new App();
/** Settings come from CDK context: `npx cdk deploy -c catalog=./my-catalog.json -c issuer=https://...`. */
const context = (name: string): string | undefined => app.node.tryGetContext(name) as string | undefined;
/** A positive number setting (`-c apiThrottleRate=50` arrives as text); anything else stops the synth, naming it. */
const numberContext = (name: string, integer = false): number | undefined => {
  const value = context(name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!(number > 0) || !Number.isFinite(number) || (integer && !Number.isInteger(number))) {
    throw new Error(`context ${name} must be a positive ${integer ? 'whole ' : ''}number, not ${JSON.stringify(value)}`);
  }
  return number;
};
new ProvisionerStack(app, 'Provisioner', {
  description: 'Provisioner: a serverless control plane for short-lived cloud environments',
  settings: {
    catalogPath: context('catalog'),
    issuer: context('issuer'),
    githubApiUrl: context('githubApiUrl'),
    githubUrl: context('githubUrl'),
    githubClientId: context('githubClientId'),
    githubOidcIssuer: context('githubOidcIssuer'),
    oidcAudience: context('oidcAudience'),
    userTokenTtl: context('userTokenTtl'),
    clusterTokenTtl: context('clusterTokenTtl'),
    apiThrottleRate: numberContext('apiThrottleRate'),
    apiThrottleBurst: numberContext('apiThrottleBurst', true),
    alarmTopicArn: context('alarmTopicArn'),
    alarmEmail: context('alarmEmail'),
    // runs: `-c runSubnets=subnet-a,subnet-b -c runSecurityGroup=sg-... -c spotServiceLinkedRole=false`
    runSubnets: context('runSubnets')?.split(',').filter(Boolean),
    runSecurityGroup: context('runSecurityGroup'),
    spotServiceLinkedRole: String(context('spotServiceLinkedRole') ?? 'true') !== 'false',
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
