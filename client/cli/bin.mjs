#!/usr/bin/env node
// The `provisioner` command: runs the TypeScript CLI through tsx, resolved from this package.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
