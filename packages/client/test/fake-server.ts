// An in-memory tus 1.0 server behind a fake fetch, for unit tests of the state machine
// without sockets. Faults are injected per request with `intercept`; `corrupt` flips body
// bytes on the way in. Checksum (460) and concatenation (partial/final) as the tus spec says.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface FakeUpload {
  id: string;
  length: number | null;
  data: Uint8Array[];
  offset: number;
  metadata: string | null;
  concat: 'partial' | 'final' | null;
  /** Final uploads: the partial URLs it was made of. */
  parts?: string[];
  /** A final created before its partials finished (concatenation-unfinished). */
  pending?: FakeUpload[];
  /** Repr-Digest declared at creation or on a PATCH; checked before the last byte is kept. */
  reprDigest?: string;
  /** A final made first whose partials, once finished, did not match its Repr-Digest. */
  digestFailed?: boolean;
  /** The instant-upload challenge given at creation, until a proof spends it. */
  challenge?: { nonce: Buffer; length: number; offsets: number[] };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodySize: number;
}

type Reply = { status: number; headers?: Record<string, string>; body?: string };

export class FakeTusServer {
  readonly uploads = new Map<string, FakeUpload>();
  readonly requests: SeenRequest[] = [];
  extensions = 'creation,creation-with-upload,creation-defer-length,termination';
  maxSize: number | null = null;
  /** Tus-Checksum-Algorithm in OPTIONS (with 'checksum' in extensions). */
  checksumAlgorithms: string | null = 'sha1,md5,crc32,sha256';
  /** Tus-S3-Part-Size in OPTIONS; null: not sent. */
  partSize: number | null = null;
  /** Changes a request body before the server sees it (e.g. flips a byte). */
  corrupt: ((req: SeenRequest, body: Uint8Array) => Uint8Array) | null = null;
  /** Every 460 answered. */
  checksumMismatches = 0;
  /** Every 460 answered for a whole-upload Repr-Digest. */
  digestMismatches = 0;
  /** Returning a reply short-circuits the request (after its body was read). */
  intercept: ((req: SeenRequest, n: number) => Reply | 'network' | undefined) | null = null;
  /** Only accept this many body bytes per PATCH (partial acknowledgement). */
  acceptAtMost = Number.POSITIVE_INFINITY;
  /** Requests for which this returns true never answer (until their signal aborts). */
  hang: ((req: SeenRequest) => boolean) | null = null;
  /**
   * Instant upload (server README, "Instant upload (protocol)"): the tenant's stored
   * contents by `<Repr-Digest> <length>`. Non-null: creations with Upload-Instant get a
   * challenge (advertise 'instant-upload' in `extensions` yourself).
   */
  instantContents: Map<string, Uint8Array> | null = null;
  /** Proofs answered, and how many were proven. */
  proofs = { answered: 0, proven: 0 };
  private n = 0;
  private ids = 0;

  readonly fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input);
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init.headers ?? {}) as Record<string, string>)) {
      headers[k.toLowerCase()] = v;
    }
    let body = await readBody(init.body);
    const req: SeenRequest = { method, url, headers, bodySize: body.length };
    this.requests.push(req);
    if (this.corrupt) body = this.corrupt(req, body);
    if (this.hang?.(req)) {
      await new Promise((_, reject) => {
        const signal = init.signal;
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const r = this.intercept?.(req, this.n++);
    if (r === 'network') throw new TypeError('fetch failed');
    const reply = r ?? this.handle(req, body);
    return new Response(method === 'HEAD' || reply.status === 204 ? null : (reply.body ?? ''), {
      status: reply.status,
      headers: reply.headers,
    });
  }) as typeof fetch;

  /**
   * A final made before its partials finished takes their bytes once all are done, unless
   * they are not its declared Repr-Digest (it then stays empty and answers 460, as ours).
   */
  private settle(u: FakeUpload): void {
    if (!u.pending?.every((p) => p.offset === p.length)) return;
    const data = u.pending.flatMap((p) => p.data);
    delete u.pending;
    if (this.digestWrong({ ...u, data }, new Uint8Array(0))) {
      u.digestFailed = true;
      return;
    }
    u.data = data;
    u.offset = u.length ?? 0;
  }

  bytesOf(url: string): Uint8Array {
    const u = this.uploads.get(url.split('/').pop()!)!;
    this.settle(u);
    const out = new Uint8Array(u.offset);
    let o = 0;
    for (const d of u.data) {
      out.set(d, o);
      o += d.length;
    }
    return out;
  }

  private handle(req: SeenRequest, body: Uint8Array): Reply {
    const h = req.headers;
    if (req.method === 'OPTIONS') {
      const headers: Record<string, string> = {
        'Tus-Extension': this.extensions,
        'Tus-Version': '1.0.0',
      };
      if (this.maxSize !== null) headers['Tus-Max-Size'] = String(this.maxSize);
      if (this.checksumAlgorithms !== null && this.extensions.includes('checksum')) {
        headers['Tus-Checksum-Algorithm'] = this.checksumAlgorithms;
      }
      if (this.partSize !== null) headers['Tus-S3-Part-Size'] = String(this.partSize);
      return { status: 204, headers };
    }
    if (body.length > 0 && h['upload-checksum'] !== undefined) {
      const bad = checkChecksum(h['upload-checksum'], body);
      if (bad) {
        if (bad.status === 460) this.checksumMismatches++;
        return bad;
      }
    }
    if (h['tus-resumable'] !== '1.0.0') return { status: 412, body: 'bad Tus-Resumable' };
    if (req.method === 'POST') {
      const id = `u${++this.ids}`;
      const concat = h['upload-concat'];
      if (concat?.startsWith('final;')) return this.final(id, concat.slice(6), h);
      const length = h['upload-length'] !== undefined ? Number(h['upload-length']) : null;
      if (length === null && h['upload-defer-length'] !== '1')
        return { status: 400, body: 'no length' };
      const u: FakeUpload = {
        id,
        length,
        data: [],
        offset: 0,
        metadata: h['upload-metadata'] ?? null,
        concat: concat === 'partial' ? 'partial' : null,
        reprDigest: h['repr-digest'],
      };
      if (h['upload-instant'] === '?1' && this.instantContents) {
        if (body.length > 0 || !length || !u.reprDigest?.startsWith('sha-256=')) {
          return { status: 400, body: 'Upload-Instant needs Upload-Length, Repr-Digest, no body' };
        }
        this.uploads.set(id, u);
        return {
          status: 201,
          headers: { Location: `/files/${id}`, 'Upload-Instant-Challenge': challengeOf(u, length) },
        };
      }
      if (body.length > 0 && body.length === length && this.digestWrong(u, body)) {
        return { status: 460, body: 'Repr-Digest mismatch' };
      }
      this.uploads.set(id, u);
      const headers: Record<string, string> = { Location: `/files/${id}` };
      if (body.length > 0) {
        u.data.push(body);
        u.offset = body.length;
        headers['Upload-Offset'] = String(u.offset);
      }
      return { status: 201, headers };
    }
    const u = this.uploads.get(req.url.split('/').pop()!);
    if (!u) return { status: 404, body: 'Upload not found' };
    if (req.method === 'HEAD') {
      this.settle(u);
      if (u.digestFailed) return { status: 460, body: 'Repr-Digest mismatch' };
      const headers: Record<string, string> = {
        'Upload-Offset': String(u.offset),
        'Cache-Control': 'no-store',
      };
      if (u.length !== null) headers['Upload-Length'] = String(u.length);
      else headers['Upload-Defer-Length'] = '1';
      if (u.concat === 'partial') headers['Upload-Concat'] = 'partial';
      if (u.concat === 'final') headers['Upload-Concat'] = `final;${u.parts!.join(' ')}`;
      // The spec: no Upload-Offset on a final until its concatenation finished.
      if (u.pending) delete headers['Upload-Offset'];
      return { status: 200, headers };
    }
    if (req.method === 'DELETE') {
      this.uploads.delete(u.id);
      return { status: 204 };
    }
    if (req.method === 'PATCH') {
      if (u.concat === 'final') return { status: 403, body: 'final upload' };
      if (Number(h['upload-offset']) !== u.offset) return { status: 409, body: 'offset mismatch' };
      if (h['upload-instant-proof'] !== undefined) return this.answerProof(u, body, h);
      if (h['upload-length'] !== undefined) u.length = Number(h['upload-length']);
      const take = body.subarray(0, Math.min(body.length, this.acceptAtMost));
      if (h['repr-digest'] !== undefined) u.reprDigest = h['repr-digest'];
      if (u.offset + take.length === u.length && this.digestWrong(u, take)) {
        return { status: 460, body: 'Repr-Digest mismatch: the upload is not what was declared' };
      }
      u.data.push(take.slice());
      u.offset += take.length;
      return { status: 204, headers: { 'Upload-Offset': String(u.offset) } };
    }
    return { status: 405 };
  }

  /** Step 4: spend the challenge, then 204 with Upload-Offset N (proven) or 0. */
  private answerProof(u: FakeUpload, body: Uint8Array, h: Record<string, string>): Reply {
    const proof = Buffer.from(
      /^:([A-Za-z0-9+/=]*):$/.exec(h['upload-instant-proof']!)?.[1] ?? '',
      'base64',
    );
    if (body.length > 0 || proof.length !== 32) return { status: 400, body: 'bad proof' };
    const c = u.challenge;
    delete u.challenge;
    this.proofs.answered++;
    const content = this.instantContents?.get(`${u.reprDigest} ${u.length}`);
    if (c && content) {
      const want = createHash('sha256').update(c.nonce);
      for (const o of c.offsets) want.update(content.subarray(o, o + c.length));
      if (want.digest().equals(proof)) {
        this.proofs.proven++;
        u.data = [content.slice()];
        u.offset = content.length;
      }
    }
    return { status: 204, headers: { 'Upload-Offset': String(u.offset) } };
  }

  /** Whether `last` completes `u` with a SHA-256 other than its declared Repr-Digest. */
  private digestWrong(u: FakeUpload, last: Uint8Array): boolean {
    if (u.reprDigest === undefined) return false;
    const h = createHash('sha256');
    for (const d of u.data) h.update(d);
    h.update(last);
    const wrong = u.reprDigest !== `sha-256=:${h.digest('base64')}:`;
    if (wrong) this.digestMismatches++;
    return wrong;
  }

  private final(id: string, list: string, h: Record<string, string>): Reply {
    const urls = list.split(' ').filter((x) => x);
    const parts: FakeUpload[] = [];
    for (const url of urls) {
      const p = this.uploads.get(url.split('/').pop()!);
      if (p?.concat !== 'partial') return { status: 400, body: `not a partial: ${url}` };
      parts.push(p);
    }
    const unfinished = parts.filter((p) => p.length === null || p.offset !== p.length);
    if (unfinished.length > 0) {
      const allowed =
        this.extensions.includes('concatenation-unfinished') &&
        unfinished.length === parts.length &&
        parts.every((p) => p.offset === 0 && p.length !== null);
      if (!allowed) return { status: 400, body: `unfinished partial: ${unfinished[0]!.id}` };
      const length = parts.reduce((a, p) => a + (p.length ?? 0), 0);
      this.uploads.set(id, {
        id,
        length,
        data: [],
        offset: 0,
        metadata: h['upload-metadata'] ?? null,
        concat: 'final',
        parts: urls,
        pending: parts,
        reprDigest: h['repr-digest'],
      });
      return {
        status: 201,
        headers: { Location: `/files/${id}`, 'Upload-Concat': `final;${list}` },
      };
    }
    const data = parts.flatMap((p) => p.data);
    const length = data.reduce((a, d) => a + d.length, 0);
    const joined: FakeUpload = { id, length, data, offset: 0, metadata: null, concat: 'final' };
    joined.reprDigest = h['repr-digest'];
    if (this.digestWrong(joined, new Uint8Array(0))) {
      return { status: 460, body: 'Repr-Digest mismatch' };
    }
    this.uploads.set(id, {
      id,
      length,
      data,
      offset: length,
      metadata: h['upload-metadata'] ?? null,
      concat: 'final',
      parts: urls,
    });
    return { status: 201, headers: { Location: `/files/${id}`, 'Upload-Concat': `final;${list}` } };
  }
}

/** Draws `u`'s challenge (L = min(4096, N), 16 sorted offsets) and returns its header. */
function challengeOf(u: FakeUpload, n: number): string {
  const length = Math.min(4096, n);
  const offsets = Array.from({ length: 16 }, () => randomInt(0, n - length + 1)).sort(
    (a, b) => a - b,
  );
  u.challenge = { nonce: randomBytes(32), length, offsets };
  return `nonce=:${u.challenge.nonce.toString('base64')}:, length=${length}, offsets=(${offsets.join(' ')})`;
}

/** 460 on a digest mismatch, 400 on an unknown algorithm or malformed value, else null. */
function checkChecksum(value: string, body: Uint8Array): Reply | null {
  const m = /^(\S+) ([A-Za-z0-9+/=]+)$/.exec(value);
  if (!m) return { status: 400, body: 'malformed Upload-Checksum' };
  const alg = m[1]!;
  let want: string;
  if (alg === 'crc32') {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(crc32(body));
    want = b.toString('base64');
  } else if (alg === 'sha1' || alg === 'md5' || alg === 'sha256') {
    want = createHash(alg).update(body).digest('base64');
  } else {
    return { status: 400, body: `unsupported checksum algorithm ${alg}` };
  }
  return want === m[2] ? null : { status: 460, body: 'Checksum Mismatch' };
}

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body.slice();
  if (body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  if (typeof (body as ReadableStream).getReader === 'function') {
    const parts: Uint8Array[] = [];
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value.slice());
    }
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  throw new Error(`fake server: unsupported body ${typeof body}`);
}

/** Deterministic bytes. */
export function bytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
