// Errors shaped as the SDK throws them for an S3 error answer: an S3ServiceException
// whose name (and Code) is S3's error code, with the HTTP status in $metadata, so the
// store's checks (errors.ts: isS3NotFound) see what they would see from a real S3.
import { S3ServiceException } from '@aws-sdk/client-s3';

export type S3Error = S3ServiceException & { Code: string };

export function s3Error(code: string, status: number, message: string): S3Error {
  const err = new S3ServiceException({
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
  return Object.assign(err, { Code: code });
}

export const noSuchKey = (key: string) => s3Error('NoSuchKey', 404, `no such key: ${key}`);

export const noSuchUpload = (uploadId: string) =>
  s3Error('NoSuchUpload', 404, `no such upload: ${uploadId}`);

/** What the SDK throws for a HEAD of a missing object: the answer has no body to name it. */
export const notFound = () => s3Error('NotFound', 404, 'NotFound');

export const badRequest = (code: string, message: string) => s3Error(code, 400, message);

/** A conditional request (CopySourceIfMatch) whose condition does not hold. */
export const preconditionFailed = (key: string) =>
  s3Error('PreconditionFailed', 412, `precondition failed: ${key}`);
