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
//
// A part larger than the whole part memory cannot wait in memory for 'finish': it streams
// "early", giving each slab back once the kernel has it, while the part still fills. Its
// bytes then cannot be staged if the request ends short (the part is lost, never counted),
// and, sent before its MD5 is known, it is checked against S3's ETag instead (the part's MD5
// on RGW and AWS, except under SSE-KMS or SSE-C).
//
// A part that begins with staged segments (a "head") streams them from S3 first, a few
// GETs ahead; the head never takes part memory, so sending it never waits for the budget.
// Its Content-MD5 is hashed from S3 beforehand (s3/patch/send.ts), except for an early
// part, checked against the ETag as above.
import { createHash, type Hash } from 'node:crypto';
import { ClientRequest } from 'node:http';
import { Readable } from 'node:stream';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { bareEtag } from '../client.js';
import type { StoreContext } from '../context.js';
import type { UploadInfo } from '../info.js';
import type { PartBuffer } from '../memory/part-buffer.js';
import type { StagedRun } from '../staging/staged-body.js';
import type { StoredPart } from '../state/progress.js';
import { partAddress } from './upload.js';

type BufferState = 'filling' | 'held' | 'released';

export interface StreamOptions {
  /** The Content-MD5 header, when every byte is in memory before the first goes out. */
  contentMd5?: string;
  /** Give each slab back once the kernel has it, before the part is whole (see above). */
  early?: boolean;
  /** Staged segments of the part before the buffer's bytes: streamed from S3 first. */
  head?: StagedRun;
}

export class StreamedPart {
  /** The part as S3 acknowledged it, or the error that stopped it. */
  readonly done: Promise<StoredPart | Error>;
  private readonly body: Readable;
  // The SDK pipes a stream body into its request; only an abort ends that request early.
  private readonly abort = new AbortController();
  private readonly early: boolean;
  private readonly hash: Hash | undefined;
  private dest: ClientRequest | undefined;
  /** The head's bytes as they come from S3; undefined once all were pushed (or none). */
  private head: AsyncIterator<Buffer> | undefined;
  /** A head chunk is being fetched: pump() pushes none meanwhile. */
  private fetching = false;
  /** Bytes of the buffer pushed into the request body (the head aside). */
  private sent = 0;
  private filled = 0;
  private wanted = false;
  private closed = false;
  private flushed = false;
  private settled: 'ok' | 'failed' | undefined;
  private buffer: BufferState = 'filling';
  private giveBack: (() => void) | undefined;

  /**
   * A part whose bytes are all in `part` already (with Content-MD5, under an
   * Upload-Checksum, or from a body of undeclared length): sent the same way, so its
   * slabs too are free once the kernel has them.
   */
  static whole(
    ctx: StoreContext,
    info: UploadInfo,
    partNumber: number,
    part: PartBuffer,
    contentMd5: string | undefined,
    head?: StagedRun,
  ): StreamedPart {
    const streamed = new StreamedPart(ctx, info, partNumber, part, { contentMd5, head });
    streamed.advance(part.length);
    return streamed;
  }

  constructor(
    ctx: StoreContext,
    info: UploadInfo,
    readonly partNumber: number,
    private readonly part: PartBuffer,
    opts: StreamOptions = {},
  ) {
    this.early = opts.early === true;
    const head = opts.head !== undefined && opts.head.size > 0 ? opts.head : undefined;
    this.head = head?.open()[Symbol.asyncIterator]();
    // Sent before its MD5 is known: S3's ETag is compared with the MD5 of what went out.
    this.hash =
      this.early && ctx.partChecksum === 'md5' && opts.contentMd5 === undefined
        ? createHash('md5')
        : undefined;
    this.body = new Readable({
      highWaterMark: part.slabSize,
      read: () => {
        this.wanted = true;
        this.freeSent();
        this.pump();
      },
    });
    this.watchFlush();
    // The receiver streams only parts of uploads with a multipart target (s3/parts/target.ts).
    const address = partAddress(ctx, info, partNumber);
    if (address === undefined) throw new Error(`upload ${info.id} has no multipart upload`);
    const size = (head?.size ?? 0) + part.size;
    this.done = ctx.client
      .send(
        new UploadPartCommand({
          ...address,
          Body: this.body,
          ContentLength: size,
          ContentMD5: opts.contentMd5,
        }),
        { abortSignal: this.abort.signal },
      )
      .then((res): StoredPart => {
        const etag = bareEtag(res.ETag);
        const md5 = this.hash?.digest('hex');
        if (md5 !== undefined && etag.toLowerCase() !== md5) {
          throw new Error(`part ${partNumber}: S3 ETag ${etag} is not the MD5 of what was sent`);
        }
        this.settled = 'ok';
        this.releaseIfDone();
        return { partNumber, size, etag };
      })
      .catch((err: unknown) => {
        this.settled = 'failed';
        this.closeHead();
        return err instanceof Error ? err : new Error(String(err));
      });
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
  handOver(give: () => void): void {
    if (this.buffer !== 'filling') throw new Error(`part ${this.partNumber} handed over twice`);
    this.buffer = 'held';
    this.giveBack = give;
    this.releaseIfDone();
  }

  /**
   * After a failure: the part's bytes for a resend if they are all still held (the caller
   * then owns the buffer), undefined if any went back to the budget.
   */
  reclaim(): PartBuffer | undefined {
    if (this.buffer !== 'held' || this.part.lostBytes) return undefined;
    this.buffer = 'released';
    return this.part;
  }

  /**
   * Stops the request and waits until it settled: the request ended before the part filled
   * (S3 must not get a short part), or the part can no longer count.
   */
  async abandon(): Promise<void> {
    this.abort.abort();
    this.body.destroy();
    this.closeHead();
    await this.done;
  }

  private pump(): void {
    const { part } = this;
    const slice = part.slabSize;
    if (this.head) {
      this.pumpHead();
      return;
    }
    while (this.wanted && this.sent < this.filled) {
      // Pushed as the body arrived (64 KiB and less), each slice was a write to S3's
      // socket, a syscall that on loopback also runs the receiver's TCP path. Held until
      // a whole slab is in: fewer, larger writes cost less CPU at the same speed
      // (BENCHMARKS.md, "Figures behind the code's choices").
      if (this.filled - this.sent < slice && this.filled < part.size) break;
      const end = Math.min(this.filled, this.sent + slice);
      const views = part.slice(this.sent, end);
      this.sent = end;
      // An early part whose bytes go anywhere but straight into a ClientRequest (a transform,
      // another client) cannot learn when they left: it pushes copies, which only the
      // consumer's backpressure bounds, and its slabs go back at once. Otherwise it would
      // wait on its own slabs forever.
      const copies = this.early && !this.dest;
      for (const view of views) {
        this.hash?.update(view);
        this.wanted = this.body.push(copies ? Buffer.from(view) : view);
      }
      if (copies) this.part.freeBefore(this.sent);
    }
    if (this.sent === part.size && !this.closed) {
      this.closed = true;
      this.body.push(null);
    }
  }

  /** Stops reading the head: its GET in flight is destroyed, its connection freed. */
  private closeHead(): void {
    const head = this.head;
    this.head = undefined;
    head?.return?.(undefined).catch(() => undefined);
  }

  /** Pushes the head's next chunk once S3 gave it, then pumps again. */
  private pumpHead(): void {
    const head = this.head;
    if (!head || this.fetching || !this.wanted) return;
    this.fetching = true;
    head.next().then(
      (next) => {
        this.fetching = false;
        if (this.closed || this.body.destroyed) return;
        if (next.done) this.head = undefined;
        else {
          this.hash?.update(next.value);
          this.wanted = this.body.push(next.value);
        }
        this.pump();
      },
      (err: unknown) => {
        this.fetching = false;
        this.body.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  /**
   * Early slabs go back once the kernel has them: bytes pushed, less those still queued in
   * the body stream or in the request and its socket (their writableLength counts a write
   * until its callback, that is until the kernel took it).
   */
  private freeSent(): void {
    const dest = this.dest;
    if (!this.early || !dest) return;
    // Pushed head bytes still queued count against the buffer's: never frees too much.
    const inUserland = this.body.readableLength + dest.writableLength;
    this.part.freeBefore(this.sent - inUserland);
  }

  /**
   * Learns when the request that carries the body has handed its last byte to the kernel.
   * The SDK pipes the body into a node:http ClientRequest (@smithy/node-http-handler);
   * its 'finish' comes from the write callback of the last chunk, after which nothing in
   * this process reads the buffer again. Any other destination never counts as flushed,
   * so the buffer is then kept until S3 answers (and an early part keeps every slab).
   */
  private watchFlush(): void {
    const body = this.body;
    const pipe = body.pipe.bind(body);
    body.pipe = <T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T => {
      // Only a ClientRequest's 'finish' means the kernel has the bytes; a transform in
      // between (the SDK's aws-chunked checksum stream) may still hold slices.
      if (dest instanceof ClientRequest) {
        this.dest = dest;
        dest.on('drain', () => this.freeSent());
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
    this.giveBack();
  }
}
