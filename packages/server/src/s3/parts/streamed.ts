// A part sent to S3 while its bytes are still arriving. A PATCH of exactly one part (how
// mobile clients send, 8 MiB at a time) is otherwise store-and-forward: the client's
// bytes all arrive, then all go to S3, then the ack; streaming overlaps the two and nearly
// halves the time per PATCH. The bytes land in the part buffer first and the body is read
// from there, so if the request ends short (a cut connection) the received bytes are
// staged from the buffer as usual. Streaming while filling only works without Content-MD5
// (that header must be known before the first byte goes out); a part whose bytes are all
// in memory already goes out through this class too, see whole().
//
// The buffer goes back to the pool as soon as the kernel has the whole part (the S3
// request's 'finish'), not when S3 answers: RGW answers tens of ms after the last byte,
// and holding every part through that wait made memory grow with the number of parts in
// flight. The price: a part that S3 fails after that point cannot be resent from memory;
// its PATCH fails and the client resumes from the last acknowledged offset, which never
// included that part.
import { ClientRequest } from 'node:http';
import { Readable } from 'node:stream';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { StoredPart } from '../state/progress.js';
import { partAddress } from './upload.js';

// Slices of the part buffer (no copies) pushed into the request body at once.
const SLICE = 1024 * 1024;

type BufferState = 'filling' | 'held' | 'released';

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
  private flushed = false;
  private settled: 'ok' | 'failed' | undefined;
  private buffer: BufferState = 'filling';
  private giveBack: ((buf: Buffer) => void) | undefined;

  /**
   * A part whose bytes are all in `buf` already (with Content-MD5, under an
   * Upload-Checksum, or from a body of undeclared length): sent the same way, so its
   * buffer too is free once the kernel has it.
   */
  static whole(
    ctx: StoreContext,
    info: UploadInfo,
    partNumber: number,
    buf: Buffer,
    contentMd5: string | undefined,
  ): StreamedPart {
    const part = new StreamedPart(ctx, info, partNumber, buf, contentMd5);
    part.advance(buf.length);
    return part;
  }

  constructor(
    ctx: StoreContext,
    info: UploadInfo,
    readonly partNumber: number,
    private readonly buf: Buffer,
    contentMd5?: string,
  ) {
    this.body = new Readable({
      highWaterMark: SLICE,
      read: () => {
        this.wanted = true;
        this.pump();
      },
    });
    this.watchFlush();
    // The receiver streams only parts of uploads with a multipart target (s3/parts/target.ts).
    const address = partAddress(ctx, info, partNumber);
    if (address === undefined) throw new Error(`upload ${info.id} has no multipart upload`);
    this.done = ctx.client
      .send(
        new UploadPartCommand({
          ...address,
          Body: this.body,
          ContentLength: buf.length,
          ContentMD5: contentMd5,
        }),
        { abortSignal: this.abort.signal },
      )
      .then(
        (res): StoredPart => {
          this.settled = 'ok';
          this.releaseIfDone();
          return { partNumber, size: buf.length, etag: bareEtag(res.ETag) };
        },
        (err: unknown) => {
          this.settled = 'failed';
          return err instanceof Error ? err : new Error(String(err));
        },
      );
  }

  /** The buffer now holds `fill` bytes of the part. */
  advance(fill: number): void {
    this.filled = fill;
    if (this.wanted) this.pump();
  }

  /**
   * The part is full and the receiver lets go of its buffer: `give` gets it back once the
   * kernel holds every byte of the part or S3 has answered for it, whichever comes first.
   * A failure before either keeps it here for reclaim().
   */
  handOver(give: (buf: Buffer) => void): void {
    if (this.buffer !== 'filling') throw new Error(`part ${this.partNumber} handed over twice`);
    this.buffer = 'held';
    this.giveBack = give;
    this.releaseIfDone();
  }

  /**
   * After a failure: the part's bytes for a resend if the buffer is still held (the
   * caller then owns it), undefined if they already went back to the pool.
   */
  reclaim(): Buffer | undefined {
    if (this.buffer !== 'held') return undefined;
    this.buffer = 'released';
    return this.buf;
  }

  /**
   * Stops the request and waits until it settled: the request ended before the part filled
   * (S3 must not get a short part), or the part can no longer count.
   */
  async abandon(): Promise<void> {
    this.abort.abort();
    this.body.destroy();
    await this.done;
  }

  private pump(): void {
    while (this.wanted && this.sent < this.filled) {
      // Pushed as the body arrived (64 KiB and less), each slice was a write to S3's
      // socket, a syscall that on loopback also runs the receiver's TCP path. Held until
      // a whole SLICE is in: fewer, larger writes cost less CPU at the same speed
      // (BENCHMARKS.md, "Figures behind the code's choices").
      if (this.filled - this.sent < SLICE && this.filled < this.buf.length) break;
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

  /**
   * Learns when the request that carries the body has handed its last byte to the kernel.
   * The SDK pipes the body into a node:http ClientRequest (@smithy/node-http-handler);
   * its 'finish' comes from the write callback of the last chunk, after which nothing in
   * this process reads the buffer again. Any other destination never counts as flushed,
   * so the buffer is then kept until S3 answers.
   */
  private watchFlush(): void {
    const body = this.body;
    const pipe = body.pipe.bind(body);
    body.pipe = <T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T => {
      // Only a ClientRequest's 'finish' means the kernel has the bytes; a transform in
      // between (the SDK's aws-chunked checksum stream) may still hold slices.
      if (dest instanceof ClientRequest) {
        dest.once('finish', () => {
          this.flushed = true;
          this.releaseIfDone();
        });
      }
      return pipe(dest, opts);
    };
  }

  private releaseIfDone(): void {
    if (this.buffer !== 'held' || !this.giveBack) return;
    // A failed request may still report 'finish' for bytes sent before the failure; those
    // bytes are then resent from this buffer, so only success or a clean flush frees it.
    if (this.settled === 'failed') return;
    // 'finish' follows the body's end, so a flushed part is a whole one.
    if (this.settled !== 'ok' && !this.flushed) return;
    this.buffer = 'released';
    this.giveBack(this.buf);
  }
}
