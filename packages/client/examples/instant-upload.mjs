// Runnable: node packages/client/examples/instant-upload.mjs FILE ENDPOINT (after pnpm build)
// Run it twice with the same file: the second run should say "instant" and send no byte
// (against @tus-s3/server on S3; the same tenant, i.e. the same bearer token if any).
import { uploadFile } from '@tus-s3/client/node';

const [file, endpoint] = process.argv.slice(2);
let upload;
const result = await uploadFile(file, { endpoint, dedupe: true }, (u) => {
  upload = u;
  u.on('instant', (r) => console.log(`instant attempt: ${r.outcome} (${r.message})`));
});
console.log(
  result.instant.outcome === 'instant'
    ? `instant: the server already had it, ${upload.progress.bytesSent} bytes sent`
    : `uploaded (${result.instant.reason}): ${upload.progress.bytesSent} bytes sent`,
);
console.log(result.url);
