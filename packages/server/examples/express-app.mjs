// Runnable: node packages/server/examples/express-app.mjs  (after `pnpm build`)
// With S3_BUCKET (and S3_ENDPOINT, AWS_* credentials) set it stores in S3, else in ./data.
import express from 'express';
import { tusS3Middleware } from '../dist/index.js';

const s3 = process.env.S3_BUCKET
  ? {
      bucket: process.env.S3_BUCKET,
      endpoint: process.env.S3_ENDPOINT,
      prefix: process.env.S3_PREFIX ?? 'uploads/',
    }
  : undefined;

const app = express();
app.use(express.json()); // body parsers before the middleware are fine
app.use(
  '/files',
  tusS3Middleware({
    s3,
    dataDir: './data',
    maxSize: 10 * 1024 ** 3,
    expiration: 24 * 3600 * 1000,
    onUploadFinish: async (_req, upload) => {
      console.log(`upload ${upload.id} finished: ${upload.size} bytes`);
      return {};
    },
  }),
);
const server = app.listen(Number(process.env.PORT ?? 1080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/files`);
});
