// An in-memory S3 for unit tests of the store: an object with the S3Client's send() that
// answers the commands the store sends (see fake-s3/*.ts for what each checks), records
// every request (like e2e/helpers/recording-client.ts) and fails chosen ones on purpose.
// For unit tests only: e2e runs against a real Ceph RGW.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { readBody } from './fake-s3/bodies.js';
import { type S3Error, s3Error } from './fake-s3/errors.js';
import * as multipart from './fake-s3/multipart.js';
import * as objects from './fake-s3/objects.js';
import { type Dialect, S3State } from './fake-s3/state.js';

export { s3Error } from './fake-s3/errors.js';
export { MIN_PART_SIZE } from './fake-s3/multipart.js';

// biome-ignore lint/suspicious/noExplicitAny: each handler takes its own command's input.
type Handler = (s: S3State, input: any) => Promise<object>;

const HANDLERS: Record<string, Handler> = {
  PutObjectCommand: objects.putObject,
  GetObjectCommand: objects.getObject,
  HeadObjectCommand: objects.headObject,
  HeadBucketCommand: objects.headBucket,
  ListObjectsV2Command: objects.listObjectsV2,
  DeleteObjectCommand: objects.deleteObject,
  DeleteObjectsCommand: objects.deleteObjects,
  CopyObjectCommand: objects.copyObject,
  CreateMultipartUploadCommand: multipart.createMultipartUpload,
  UploadPartCommand: multipart.uploadPart,
  UploadPartCopyCommand: multipart.uploadPartCopy,
  ListPartsCommand: multipart.listParts,
  CompleteMultipartUploadCommand: multipart.completeMultipartUpload,
  AbortMultipartUploadCommand: multipart.abortMultipartUpload,
  ListMultipartUploadsCommand: multipart.listMultipartUploads,
};

export interface FakeS3Options {
  /** Buckets that exist (default: one, "test"). */
  buckets?: string[];
  /** Most entries a ListObjectsV2, ListParts or ListMultipartUploads page holds (S3: 1000). */
  pageSize?: number;
  dialect?: Dialect;
}

export interface Recorded {
  /** The command's class name, as recording-client logs it: "UploadPartCommand". */
  command: string;
  /** The input without its Body. */
  input: Record<string, unknown>;
  bodyLength?: number;
  /** Base64 MD5 of the body as received. */
  md5OfBody?: string;
  /** Order of events (a counter): when the request was sent, and when it was answered. */
  sentAt: number;
  answeredAt?: number;
  /** The error code it was answered with, if any. */
  error?: string;
}

export interface Failure {
  /** Fail the nth matching request from now on (default 1). */
  nth?: number;
  /** ...and this many matching requests in a row from there (default 1). */
  times?: number;
  /** Only requests whose input matches count. */
  match?: (input: Record<string, unknown>) => boolean;
  /** What the request is answered with (default: a 500 InternalError). */
  error?: () => unknown;
  /**
   * 'before' (default): S3 refuses the request once it has read it; nothing changes.
   * 'after': S3 does what was asked, and the answer is lost.
   * 'unread': S3 fails the request at once, leaving its body unread (a reset connection).
   */
  when?: 'before' | 'after' | 'unread';
}

interface Rule extends Required<Omit<Failure, 'match'>> {
  command: string;
  match?: Failure['match'];
  seen: number;
}

export class FakeS3 {
  readonly requests: Recorded[] = [];
  readonly state: S3State;
  private rules: Rule[] = [];
  private clock = 0;

  constructor(opts: FakeS3Options = {}) {
    this.state = new S3State(
      opts.buckets ?? ['test'],
      opts.pageSize ?? 1000,
      opts.dialect ?? 'rgw',
    );
  }

  /** This fake, typed as what the store takes. */
  get client(): S3Client {
    return this as unknown as S3Client;
  }

  async send(
    command: { input: object },
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown> {
    const name = command.constructor.name;
    const handler = HANDLERS[name];
    if (!handler) throw new Error(`fake S3 does not implement ${name}`);
    const { Body: body, ...input } = command.input as Record<string, unknown>;
    const entry: Recorded = { command: name, input, sentAt: this.tick() };
    this.requests.push(entry);
    const failure = this.failureFor(name, input);
    try {
      if (failure?.when === 'unread') throw failure.error();
      // S3 answers once it has read the whole request (or the sender aborted it).
      const bytes = body === undefined ? undefined : await readBody(body, options?.abortSignal);
      if (bytes) {
        entry.bodyLength = bytes.length;
        entry.md5OfBody = createHash('md5').update(bytes).digest('base64');
      }
      if (failure?.when === 'before') throw failure.error();
      const out = await handler(this.state, { ...input, Body: bytes });
      if (failure) throw failure.error();
      return { $metadata: { httpStatusCode: 200 }, ...out };
    } catch (err) {
      entry.error = (err as S3Error).Code ?? (err as Error).name;
      throw err;
    } finally {
      entry.answeredAt = this.tick();
    }
  }

  /** Fails requests of `command` ("UploadPart" or "UploadPartCommand") as told. */
  failOn(command: string, failure: Failure = {}): void {
    this.rules.push({
      command: commandName(command),
      nth: failure.nth ?? 1,
      times: failure.times ?? 1,
      match: failure.match,
      error: failure.error ?? (() => s3Error('InternalError', 500, 'injected failure')),
      when: failure.when ?? 'before',
      seen: 0,
    });
  }

  /** Requests of `command` so far, or since the request count `since`. */
  sent(command: string, since = 0): Recorded[] {
    const name = commandName(command);
    return this.requests.slice(since).filter((r) => r.command === name);
  }

  count(command: string, since = 0): number {
    return this.sent(command, since).length;
  }

  /** Command names of the requests since `since`, in order sent. */
  commands(since = 0): string[] {
    return this.requests.slice(since).map((r) => r.command.replace(/Command$/, ''));
  }

  /** The object's bytes, or undefined. */
  object(key: string, bucket = this.defaultBucket()): Buffer | undefined {
    return this.state.bucket(bucket).get(key)?.bytes;
  }

  keys(prefix = '', bucket = this.defaultBucket()): string[] {
    return [...this.state.bucket(bucket).keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Multipart uploads in progress: key -> their parts' sizes by part number. */
  uploads(): Array<{ key: string; uploadId: string; parts: Map<number, Buffer> }> {
    return [...this.state.uploads.values()].map((u) => ({
      key: u.key,
      uploadId: u.uploadId,
      parts: new Map([...u.parts].map(([n, p]) => [n, p.bytes])),
    }));
  }

  private defaultBucket(): string {
    const [first] = this.state.buckets.keys();
    if (first === undefined) throw new Error('fake S3 has no bucket');
    return first;
  }

  private failureFor(command: string, input: Record<string, unknown>): Rule | undefined {
    for (const rule of this.rules) {
      if (rule.command !== command || (rule.match && !rule.match(input))) continue;
      rule.seen++;
      if (rule.seen >= rule.nth && rule.seen < rule.nth + rule.times) {
        if (rule.seen === rule.nth + rule.times - 1)
          this.rules = this.rules.filter((r) => r !== rule);
        return rule;
      }
    }
    return undefined;
  }

  private tick(): number {
    return ++this.clock;
  }
}

function commandName(command: string): string {
  return command.endsWith('Command') ? command : `${command}Command`;
}
