#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ProvisionerStack } from '../lib/provisioner-stack.js';

const app = new App();
new ProvisionerStack(app, 'Provisioner', {
  description: 'Provisioner: a serverless control plane for short-lived cloud environments',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
