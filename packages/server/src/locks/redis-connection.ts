// The CLI's Redis connection: checked at start, so a wrong URL is a one-line error.
import type { Redis } from 'ioredis';

// A Redis that stops answering (a half-open connection) must fail a command, not hang it:
// an unlock that never returns would hold its request's answer, and lock renewals would
// pile up unanswered. Far below the default lock lease (10 s), which renewals must beat.
// The connection itself is dropped and made anew when a command waits that long for any
// byte (ioredis's socketTimeout is armed only while commands wait, so the subscription's
// idle connection is not cut): a silent connection would fail every later command too.
const COMMAND_TIMEOUT_MS = 3_000;

/** A connected client, or a one-line error when the Redis does not answer. */
export async function connectRedis(url: string): Promise<Redis> {
  // Loaded only when a Redis is configured: ioredis is ~13 MiB of RSS a server without one
  // would carry for nothing.
  const { Redis: RedisClient } = await import('ioredis');
  const redis = new RedisClient(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    commandTimeout: COMMAND_TIMEOUT_MS,
    socketTimeout: COMMAND_TIMEOUT_MS,
  });
  // Reconnecting is ioredis's job; requests see failures as lock errors. The first error
  // names the cause better than the "Connection is closed" connect() rejects with.
  let cause: Error | undefined;
  redis.on('error', (err: Error) => {
    cause ??= err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in 5 s')), 5000);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `cannot reach redis at ${redactUrl(url)}: ${(cause ?? (err as Error)).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
