#!/usr/bin/env node
// kubectl moco (kubectl finds kubectl-moco on PATH): the esbuild bundle in dist/ when it is current, else the
// TypeScript sources through tsx.
import { runEntry } from './run-entry.js';

await runEntry('kubectl-moco');
