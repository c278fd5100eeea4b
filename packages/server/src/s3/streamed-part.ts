// A part sent to S3 while its bytes are still arriving. A PATCH of exactly one part (how
// mobile clients send, 8 MiB at a time) is otherwise store-and-forward: the client's
// bytes all arrive, then all go to S3, then the ack; streaming overlaps the two and nearly
// halves the time per PATCH. The bytes still land in the part buffer first and the body
// is read from there, so nothing extra is held, and if the request ends short (a cut
// connection) the received bytes are staged from the buffer as usual. Only without
// Content-MD5: that header must be known before the first byte goes out.
import { Readable } from 'node:stream';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import type { StoreContext } from './context.js';
import type { UploadInfo } from './info.js';
import type { StoredPart } from './offset.js';
import { bareEtag } from './s3-client.js';
import { partAddress } from './upload-part.js';

const SLICE = 256 * 1024;

export class StreamedPart {
  /** The part as S3 acknowledged it, or the error that stopped it. */
  readonly done: Promise<StoredPart | Error>;
  private readonly body: Readable;
  // The SDK pipes a stream body into its request; only an abort ends that request early.
  private readonly abort = new AbortController();
  private sent = 0;
  private filled = 0;
  private wanted = false;
  private closed = false;

  constructor(
    ctx: StoreContext,
    info: UploadInfo,
    readonly partNumber: number,
    private readonly buf: Buffer,
  ) {
    this.body = new Readable({
      highWaterMark: SLICE,
      read: () => {
        this.wanted = true;
        this.pump();
      },
    });
    // The receiver streams only parts of uploads with a multipart target (part-target.ts).
    const address = partAddress(ctx, info, partNumber);
    if (address === undefined) throw new Error(`upload ${info.id} has no multipart upload`);
    this.done = ctx.client
      .send(
        new UploadPartCommand({
          ...address,
          Body: this.body,
          ContentLength: buf.length,
        }),
        { abortSignal: this.abort.signal },
      )
      .then(
        (res): StoredPart => ({ partNumber, size: buf.length, etag: bareEtag(res.ETag) }),
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
  }

  /** The buffer now holds `fill` bytes of the part. */
  advance(fill: number): void {
    this.filled = fill;
    if (this.wanted) this.pump();
  }

  /** The request ended before the part filled: S3 must not get a short part. */
  async abandon(): Promise<void> {
    this.abort.abort();
    this.body.destroy();
    await this.done;
  }

  private pump(): void {
    while (this.wanted && this.sent < this.filled) {
      const end = Math.min(this.filled, this.sent + SLICE);
      const slice = this.buf.subarray(this.sent, end);
      this.sent = end;
      this.wanted = this.body.push(slice);
    }
    if (this.sent === this.buf.length && !this.closed) {
      this.closed = true;
      this.body.push(null);
    }
  }
}
