// The info record folded into the object's user metadata. An upload that fits in one part
// and arrives whole with its creation is written by one PutObject whose metadata carries
// what its .info would hold, and gets no .info: one S3 request per small file. Readers find
// it there when there is no .info (s3/info-io.ts). Pure: encoding, decoding, the size rule.
import { objectRecordsCompletion, parseInfo, type UploadInfo } from './info.js';

/** The user-metadata key (x-amz-meta-tus-info). */
export const FOLDED_INFO_KEY = 'tus-info';

/**
 * S3 caps an object's user metadata at 2 KiB: the UTF-8 bytes of every key and value. Our
 * values are ASCII, so characters are bytes.
 */
export const USER_METADATA_LIMIT = 2048;

/**
 * The info as a header value: JSON whose every character outside printable ASCII, spaces
 * included, is a \u escape. JSON.stringify puts no whitespace outside strings, so each such
 * character is inside one, where the escape is valid; S3 may trim or fold spaces in a
 * header, and sends only ASCII. What only the object tells (completion, the verified
 * digest's CRC) and a challenge nobody can answer any more stay out.
 */
export function encodeFoldedInfo(info: UploadInfo): string {
  const folded: UploadInfo = { ...info };
  delete folded.completedAt;
  delete folded.instant;
  return JSON.stringify(folded).replace(
    /[^\x21-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The user metadata `others` plus the folded info, or undefined when it would not fit. */
export function withFoldedInfo(
  info: UploadInfo,
  others: Record<string, string> | undefined,
): Record<string, string> | undefined {
  const metadata = { ...others, [FOLDED_INFO_KEY]: encodeFoldedInfo(info) };
  return metadataBytes(metadata) <= USER_METADATA_LIMIT ? metadata : undefined;
}

function metadataBytes(metadata: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(metadata)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

const WORST_SHA256 = 'f'.repeat(64);
const WORST_CRC = 'AAAAAAAAAAA=';

/**
 * Whether this upload, just created, may skip its .info: it is written whole by one
 * PutObject that records its completion (info.ts objectRecordsCompletion: no multipart
 * upload, no concatenation) and its info fits in that PutObject's metadata even once the
 * digest computed while receiving is added to both (the info and the `sha256` key).
 */
export function mayFold(info: UploadInfo): boolean {
  if (!objectRecordsCompletion(info) || info.size === undefined || info.size === 0) return false;
  const worst: UploadInfo = info.digest
    ? {
        ...info,
        digest: {
          ...info.digest,
          sha256: WORST_SHA256,
          ...(info.digest.fullObjectCrc ? { crc64nvme: WORST_CRC } : {}),
        },
      }
    : info;
  const others = info.digest ? { sha256: WORST_SHA256 } : undefined;
  return withFoldedInfo(worst, others) !== undefined;
}

/** What a HEAD of an upload's object says. */
export interface ObjectFacts {
  length?: number;
  lastModified?: Date;
  metadata?: Record<string, string>;
}

/**
 * The info folded into an object, complete (the object exists only whole), or undefined
 * when the object carries none that is this upload's and matches its length. Throws on a
 * value that is not an info record (as parseInfo does for a .info).
 */
export function infoFromObject(id: string, head: ObjectFacts): UploadInfo | undefined {
  const value = head.metadata?.[FOLDED_INFO_KEY];
  if (value === undefined) return undefined;
  const info = parseInfo(value);
  if (info.id !== id || !objectRecordsCompletion(info)) return undefined;
  if (head.length === undefined || head.length !== info.size) return undefined;
  const completedAt = (head.lastModified ?? new Date(info.createdAt)).toISOString();
  const done: UploadInfo = { ...info, completedAt };
  // The object's `sha256` is the digest verified before the PutObject (s3/patch/request.ts).
  const sha256 = head.metadata?.sha256;
  if (done.digest && sha256 !== undefined) done.digest = { ...done.digest, sha256 };
  return done;
}
