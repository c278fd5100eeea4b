// Runs an `uploads` subcommand against S3 and prints its answer; the exit code says how it went.
import { CommanderError, type Option } from 'commander';
import { createLogger } from '../../log.js';
import { UploadsAdmin } from '../../s3/admin.js';
import { createS3Client } from '../../s3/client.js';
import { DEFAULT_EXPIRATION } from '../../tus-server.js';
import { type AdminRequest, type AdminS3Flags, parseAdminArgs } from './command.js';
import { formatJsonLines, formatTable } from './format.js';

function adminFor(flags: AdminS3Flags): UploadsAdmin {
  if (!flags.s3Bucket) {
    throw new Error('uploads commands need --s3-bucket (or S3_BUCKET)');
  }
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  const client = createS3Client({
    endpoint: flags.s3Endpoint,
    region: flags.s3Region,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    checksumMode: flags.checksumMode,
    connectTimeout: flags.s3ConnectTimeout,
    requestTimeout: flags.s3RequestTimeout,
    maxAttempts: flags.s3MaxAttempts,
  });
  return new UploadsAdmin({
    client,
    bucket: flags.s3Bucket,
    prefix: flags.s3Prefix,
    expiration: flags.expiration ?? DEFAULT_EXPIRATION,
    logger: createLogger(flags.logLevel),
  });
}

/** Carries out a parsed request; returns the exit code. */
export async function runAdmin(request: AdminRequest): Promise<number> {
  const admin = adminFor(request.flags);
  switch (request.command) {
    case 'list': {
      const found = await admin.list({ owner: request.owner, olderThan: request.olderThan });
      process.stdout.write(request.json ? formatJsonLines(found) : formatTable(found));
      return 0;
    }
    case 'abort': {
      const result = await admin.abort(request.id);
      const says = {
        aborted: `upload ${request.id} aborted`,
        missing: `no upload ${request.id} under this bucket and prefix`,
        finished: `upload ${request.id} is finished; abort removes only unfinished uploads`,
      }[result];
      (result === 'aborted' ? process.stdout : process.stderr).write(`tus-s3-server: ${says}\n`);
      return result === 'aborted' ? 0 : 1;
    }
    case 'sweep': {
      if ((request.flags.expiration ?? DEFAULT_EXPIRATION) <= 0) {
        process.stdout.write('tus-s3-server: --expiration is 0: nothing expires\n');
        return 0;
      }
      const removed = await admin.sweep();
      process.stdout.write(`tus-s3-server: ${removed} expired upload(s) removed\n`);
      return 0;
    }
  }
}

/** `tus-s3-server uploads ...`: parse, run, exit. */
export async function adminMain(argv: readonly string[], serverOptions: readonly Option[]) {
  let request: AdminRequest;
  try {
    request = parseAdminArgs(argv, serverOptions);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 1);
    throw err;
  }
  process.exit(await runAdmin(request));
}
