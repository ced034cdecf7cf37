#!/usr/bin/env node
// Runs the moco CLI: the esbuild bundle in dist/ when it is newer than every source file, else the TypeScript
// sources through tsx (see bin/moco-agent.js).
import { runEntry } from './run-entry.js';

await runEntry('moco');
