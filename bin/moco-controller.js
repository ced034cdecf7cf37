#!/usr/bin/env node
// moco-controller: the Kubernetes operator (the image runs dist/moco-controller.mjs directly).
import { runEntry } from './run-entry.js';

await runEntry('moco-controller');
