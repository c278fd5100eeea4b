// The key that seals ids (s3/sealed/seal.ts), kept in the bucket beside the uploads it
// names, so that a restarted server opens the ids it gave out before. Made at the first
// sealed creation under a prefix; never rotated (an id sealed with a key lives as long as
// its upload may, the expiration).
//
// Only a store whose locks are process-local seals ids (s3/store.ts): one instance, so no
// two writers race to make the key. Every store opens them, whatever its locks.
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { isS3NotFound } from '../../errors.js';
import { sealKeyKey } from '../keys.js';
import { openId, SEAL_KEY_BYTES, type SealedCreation, sealId } from './seal.js';

export interface SealKeyDeps {
  client: S3Client;
  bucket: string;
  prefix: string;
  log: Logger;
}

/** After a failed read or write of the key, ids are neither sealed nor opened for this long. */
const RETRY_AFTER_MS = 30_000;

export class SealKeeper {
  private key: Buffer | undefined;
  private loading: Promise<Buffer | undefined> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  /** The error of the last read or write of the key, until one succeeds. */
  private failure: unknown;
  /** When a look found no key: ids that look sealed open nothing until one is made. */
  private absentAt = Number.NEGATIVE_INFINITY;

  /** `expiration`: ms an upload lives unfinished; a sealed id older than it opens no more. */
  constructor(
    private readonly deps: SealKeyDeps,
    private readonly expiration: number,
    given?: Buffer,
  ) {
    if (given !== undefined && given.length !== SEAL_KEY_BYTES) {
      throw new Error(`the key of sealed ids must be ${SEAL_KEY_BYTES} bytes`);
    }
    this.key = given;
  }

  /** The id of `creation`; undefined when there is no key (S3 failed) or it is too long. */
  async seal(creation: SealedCreation): Promise<string | undefined> {
    const key = await this.ready(true);
    return key && sealId(key, creation);
  }

  /**
   * The creation sealed in `id`, unless it is not ours or its upload has expired. Throws the
   * S3 error when the key could not be read: an upload S3 cannot show now is no 404.
   */
  async open(id: string, now = Date.now()): Promise<SealedCreation | undefined> {
    const key = await this.ready(false);
    if (!key && this.failure !== undefined) throw this.failure;
    const creation = key && openId(key, id);
    if (!creation) return undefined;
    if (this.expiration > 0 && creation.createdAt + this.expiration < now) return undefined;
    return creation;
  }

  /** The key, read (and with `make`, made when missing) at the first need. */
  private ready(make: boolean): Promise<Buffer | undefined> {
    if (this.key) return Promise.resolve(this.key);
    // A creation after a failure takes a random id without asking S3 again for a while; a
    // look asks again each time, as a look at any upload would.
    const since = Date.now() - (make ? this.failedAt : this.absentAt);
    if (since < RETRY_AFTER_MS) return Promise.resolve(undefined);
    this.loading ??= this.load(make).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(make: boolean): Promise<Buffer | undefined> {
    try {
      this.key = (await this.read()) ?? (make ? await this.make() : undefined);
      this.failure = undefined;
      if (!this.key) this.absentAt = Date.now();
      return this.key;
    } catch (err) {
      this.failedAt = Date.now();
      this.failure = err;
      this.deps.log.warn({ err }, 'could not read or make the key of sealed ids');
      return undefined;
    }
  }

  private async read(): Promise<Buffer | undefined> {
    const { client, bucket, prefix } = this.deps;
    try {
      const res = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: sealKeyKey(prefix) }),
      );
      const key = Buffer.from((await res.Body?.transformToString('utf-8')) ?? '', 'base64');
      if (key.length !== SEAL_KEY_BYTES) throw new Error('the key of sealed ids is malformed');
      return key;
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw err;
    }
  }

  private async make(): Promise<Buffer> {
    const { client, bucket, prefix } = this.deps;
    const key = randomBytes(SEAL_KEY_BYTES);
    const body = Buffer.from(key.toString('base64'), 'utf-8');
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: sealKeyKey(prefix),
        Body: body,
        ContentLength: body.length,
        ContentType: 'text/plain',
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    return key;
  }
}
