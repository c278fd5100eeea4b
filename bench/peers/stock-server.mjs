#!/usr/bin/env node
// Peer B's server: stock @tus/server + @tus/s3-store behind Express, configured for the
// same RGW as ours (path-style, WHEN_REQUIRED checksums: RGW rejects the SDK's default
// aws-chunked trailers), 8 MiB parts.
//   node bench/peers/stock-server.mjs --port 0 --s3-bucket B --s3-endpoint URL [--s3-region R]
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Prints
// "stock-server: listening on http://127.0.0.1:PORT/files"; SIGTERM/SIGINT exit.
import { parseArgs } from 'node:util';
import { S3Store } from '@tus/s3-store';
import { Server } from '@tus/server';
import express from 'express';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: o } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'part-size': { type: 'string', default: String(8 * 1024 * 1024) },
    's3-bucket': { type: 'string' },
    's3-endpoint': { type: 'string' },
    's3-region': { type: 'string', default: 'us-east-1' },
  },
});
if (!o['s3-bucket'] || !o['s3-endpoint']) {
  console.error('stock-server: --s3-bucket and --s3-endpoint are required');
  process.exit(1);
}

const datastore = new S3Store({
  partSize: Number(o['part-size']),
  s3ClientConfig: {
    bucket: o['s3-bucket'],
    endpoint: o['s3-endpoint'],
    region: o['s3-region'],
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  },
});
const tus = new Server({ path: '/files', datastore });

const app = express();
app.disable('x-powered-by');
app.all(/^\/files(\/.*)?$/, (req, res) => {
  tus.handle(req, res);
});
const server = app.listen(Number(o.port), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`stock-server: listening on http://127.0.0.1:${port}/files\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
