import { redactUrl } from '../src/locks/redis-connection.js';

describe('redactUrl', () => {
  it('hides a password, keeps the rest', () => {
    expect(redactUrl('redis://app:s3cret@10.0.0.5:6380/2')).toBe('redis://app:***@10.0.0.5:6380/2');
    expect(redactUrl('rediss://:s3cret@cache.internal')).toBe('rediss://:***@cache.internal');
  });
  it('leaves a URL without password, or no URL at all, as it is', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
