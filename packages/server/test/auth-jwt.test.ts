import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { bearerToken, jwtAuthenticator, principalFromClaims } from '../src/auth/jwt.js';
import { TusError } from '../src/errors.js';

const SECRET = 'unit-secret-unit-secret-unit-secret!';
const key = new TextEncoder().encode(SECRET);

function request(authorization?: string): Request {
  return new Request('http://localhost/files', {
    headers: authorization ? { Authorization: authorization } : {},
  });
}

async function hs256(claims: Record<string, unknown>, exp?: number, sub = 'alice') {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub);
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

async function refusal(p: Promise<unknown>): Promise<TusError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TusError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('bearerToken', () => {
  it('takes the token of a Bearer header, any case of the scheme', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def-_.g')).toBe('abc.def-_.g');
  });
  it('takes nothing else', () => {
    for (const h of [null, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpw', 'Bearer a b', 'xBearer a']) {
      expect(bearerToken(h)).toBeUndefined();
    }
  });
});

describe('principalFromClaims', () => {
  it('owner from sub, tenant from the tenant claim or the owner', () => {
    expect(principalFromClaims({ sub: 'a', tenant: 't' })).toEqual({ owner: 'a', tenant: 't' });
    expect(principalFromClaims({ sub: 'a' })).toEqual({ owner: 'a', tenant: 'a' });
    expect(principalFromClaims({ sub: 'a', org: 'o', tenant: 't' }, 'org')).toEqual({
      owner: 'a',
      tenant: 'o',
    });
    expect(principalFromClaims({ sub: 'a', tenant: 7 })).toEqual({ owner: 'a', tenant: 'a' });
  });
  it('none without a subject', () => {
    expect(principalFromClaims({})).toBeUndefined();
    expect(principalFromClaims({ sub: '' })).toBeUndefined();
  });
});

describe('jwtAuthenticator (HS256)', () => {
  const authenticate = jwtAuthenticator({ secret: SECRET });

  it('answers the principal of a valid token', async () => {
    const token = await hs256({ tenant: 'acme' });
    expect(await authenticate(request(`Bearer ${token}`))).toEqual({
      owner: 'alice',
      tenant: 'acme',
    });
  });

  it('refuses a missing, forged, expired, subjectless or alg-none token with 401', async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode('other-secret-other-secret-other!!'));
    const expired = await hs256({}, Math.floor(Date.now() / 1000) - 1);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(key);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.`;
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'missing bearer token\n'],
      [`Bearer ${forged}`, 'invalid or expired token\n'],
      [`Bearer ${expired}`, 'invalid or expired token\n'],
      [`Bearer ${noSub}`, 'token has no subject\n'],
      [`Bearer ${none}`, 'invalid or expired token\n'],
    ];
    for (const [header, body] of cases) {
      const err = await refusal(Promise.resolve(authenticate(request(header))));
      expect([header, err.status_code, err.body]).toEqual([header, 401, body]);
    }
  });

  it('refuses an RS256 token: the algorithm is pinned to the key kind', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('a')
      .sign(privateKey);
    const err = await refusal(Promise.resolve(authenticate(request(`Bearer ${rs}`))));
    expect(err.status_code).toBe(401);
  });

  it('needs a secret or a JWKS URL', () => {
    expect(() => jwtAuthenticator({})).toThrow('secret or a JWKS URL');
  });
});

describe('jwtAuthenticator (JWKS)', () => {
  it('verifies ES256 tokens against the key set, fetched once', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    let fetches = 0;
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      fetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const authenticate = jwtAuthenticator({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
      for (const sub of ['a', 'b', 'c']) {
        const token = await new SignJWT({ tenant: 't' })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setSubject(sub)
          .sign(privateKey);
        expect(await authenticate(request(`Bearer ${token}`))).toEqual({ owner: sub, tenant: 't' });
      }
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });

  it('answers 503 when the key set cannot be fetched', async () => {
    const authenticate = jwtAuthenticator({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setSubject('a')
      .sign(privateKey);
    const err = await refusal(Promise.resolve(authenticate(request(`Bearer ${token}`))));
    expect(err.status_code).toBe(503);
  });
});
