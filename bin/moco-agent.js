#!/usr/bin/env node
// Runs moco-agent: the esbuild bundle in dist/ when it is newer than every source file (npm ci builds it),
// else the TypeScript sources through tsx, so the command always runs the code as checked out.
import { runEntry } from './run-entry.js';

await runEntry('moco-agent');
