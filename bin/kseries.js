#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step to forget.
import { register } from 'tsx/esm/api';
register();
const { kseries } = await import('../harness/cli.ts');
await kseries(process.argv.slice(2));
