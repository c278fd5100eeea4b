#!/usr/bin/env node
// tus-s3-server entry point. Only what must run before the server's modules load lives
// here; the CLI itself is cli/main.ts, imported once the heap is tuned.
import { tuneHeapForCli } from './cli/heap-tuning.js';

tuneHeapForCli();
await import('./cli/main.js');
