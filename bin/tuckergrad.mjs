#!/usr/bin/env node
// Launcher for `npx tuckergrad …`: registers tsx's TypeScript loader, then runs src/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
