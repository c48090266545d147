// A real OpenID Connect provider for simplejwt's social-login tests: the
// certified `oidc-provider` package, configured for them. Started by
// tests/oidc.rs (and through it by .ci/run) as `node provider.mjs`; it
// listens on a free loopback port, prints `READY <port>` and runs until its
// standard input closes (the test process ended).
//
// - Issuer http://127.0.0.1:<port>; PKCE (S256) required; ID tokens carry
//   the profile and e-mail claims (conformIdTokenClaims off).
// - Clients: `web` (confidential, secret `web-secret`, redirect URIs from
//   $REDIRECT_URIS), `app` and `other` (public: a native app's and someone
//   else's client id).
// - No login page: the interaction signs in the account that the
//   authorization request's `login_hint` names (default `alice`) and grants
//   what is asked, so a test follows the redirects over HTTP. An account
//   `<name>` has subject `sub-<name>`, e-mail `<name>@example.com`, verified
//   unless the name ends in `-unverified`.
// - Test-only routes:
//     POST /test/id-token {claims, kid}: an ID token signed with the
//       provider's key `key-1`, or `key-2` (published only after
//       POST /test/rotate), or any other kid (signed by key-2, never published);
//     GET /test/stats: how many times the JWKS were fetched;
//     GET /garbage/.well-known/openid-configuration: not JSON (a broken provider).
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, importJWK } from 'jose';

function rsaJwk(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
}
const publicOf = ({ kty, n, e, kid, use, alg }) => ({ kty, n, e, kid, use, alg });

const key1 = rsaJwk('key-1');
const key2 = rsaJwk('key-2');
let rotated = false;
let jwksFetches = 0;

const redirectUris = (process.env.REDIRECT_URIS || 'https://app.test/api/oidc/test/callback/')
  .split(',').filter(Boolean);

function account(id) {
  const name = String(id);
  const verified = !name.endsWith('-unverified');
  return {
    accountId: name,
    async claims() {
      return {
        sub: `sub-${name}`,
        email: `${name.replace(/-unverified$/, '')}@example.com`,
        email_verified: verified,
        preferred_username: name,
        given_name: name[0].toUpperCase() + name.slice(1),
        family_name: 'Test',
      };
    },
  };
}

let provider;
let issuer;

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    const accountId = params.login_hint || 'alice';
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function mint(req, res) {
  const { claims = {}, kid = 'key-1' } = await readJson(req);
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: issuer, aud: 'web', sub: 'sub-minted', iat: now, exp: now + 300, ...claims };
  const jwk = kid === 'key-1' ? key1 : key2;
  const key = await importJWK(jwk, 'RS256');
  const token = await new SignJWT(body).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(key);
  send(res, 200, { id_token: token });
}

const server = http.createServer(async (req, res) => {
  try {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/interaction/')) return await interaction(req, res);
    if (req.method === 'POST' && path === '/test/id-token') return await mint(req, res);
    if (req.method === 'POST' && path === '/test/rotate') { rotated = true; return send(res, 200, {}); }
    if (path === '/test/stats') return send(res, 200, { jwks_fetches: jwksFetches });
    if (path === '/garbage/.well-known/openid-configuration') return send(res, 200, '<html>oops</html>', 'text/html');
    if (path === '/jwks') {
      jwksFetches += 1;
      if (rotated) return send(res, 200, { keys: [publicOf(key1), publicOf(key2)] });
    }
    return provider.callback()(req, res);
  } catch (err) {
    send(res, 500, { error: 'test_provider_error', error_description: String(err) });
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'web',
        client_secret: 'web-secret',
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      { client_id: 'app', token_endpoint_auth_method: 'none', redirect_uris: ['http://app.test/native/'] },
      { client_id: 'other', token_endpoint_auth_method: 'none', redirect_uris: ['http://app.test/native/'] },
    ],
    jwks: { keys: [key1] },
    findAccount: async (ctx, id) => account(id),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'given_name', 'family_name'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true, methods: ['S256'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 300, Session: 600, Grant: 600 },
  });
  provider.proxy = false;
  process.stdout.write(`READY ${port}\n`);
});

// Ends with the test process that started it.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
