// An independent upstream identity provider for tests/oidc-upstream.test.mjs: the npm package
// oidc-provider (panva/node-oidc-provider), in-process on 127.0.0.1 and a random port.
//
// - Its login form (English, so it is never mistaken for Rathaus's) has "Username" and a
//   "Level of assurance" select; the chosen value becomes the `acr` of the login (oidc-provider
//   takes acr from the interaction result `login: { accountId, acr }`; the bundled
//   devInteractions cannot set it). Consent is granted without a page.
// - ID tokens carry the profile and email claims too (conformIdTokenClaims: false), so the
//   client may read them from the ID token or from userinfo.
// - PKCE is required for every client, so a client without PKCE fails here.
// - It records every authorization request and token request for assertions.
import http from 'node:http';
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

export const UPSTREAM_UI = Object.freeze({
  username: 'Username',
  level: 'Level of assurance',
  submit: 'Sign in',
});

/** acr values the upstream offers (STORK QAA and eIDAS). */
export const UPSTREAM_ACRS = [
  'STORK-QAA-Level-1',
  'STORK-QAA-Level-2',
  'STORK-QAA-Level-3',
  'STORK-QAA-Level-4',
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
];

/** Accounts of the upstream, by login name; any other name gets an `…@upstream.example` address. */
export const UPSTREAM_ACCOUNTS = Object.freeze({
  'max.upstream': { email: 'max.upstream@example.org', given_name: 'Max', family_name: 'Upstream' },
  // same verified e-mail as the Rathaus demo citizen: the upstream login links to her account
  'erika.bund': { email: 'erika.mustermann@example.org', given_name: 'Erika', family_name: 'Mustermann' },
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid) {
  const options = ['<option value="">(no acr)</option>']
    .concat(UPSTREAM_ACRS.map((a) => `<option value="${esc(a)}">${esc(a)}</option>`))
    .join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upstream IdP sign-in</title></head>` +
    `<body><main><h1>Upstream IdP sign-in</h1>` +
    `<form method="post" action="/interaction/${esc(uid)}/login">` +
    `<p><label for="username">${UPSTREAM_UI.username}</label> <input id="username" name="username" required></p>` +
    `<p><label for="acr">${UPSTREAM_UI.level}</label> <select id="acr" name="acr">${options}</select></p>` +
    `<p><button type="submit">${UPSTREAM_UI.submit}</button></p></form></main></body></html>`
  );
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/**
 * Starts the upstream IdP. Register the relying party with `registerClient` once its redirect URI
 * is known (Rathaus is started after the upstream, on a port chosen at start).
 * @returns {Promise<{ issuer: string, provider: Provider,
 *   registerClient: (c: { clientId: string, clientSecret: string, redirectUri: string }) => Promise<void>,
 *   authorizationRequests: URLSearchParams[], tokenRequests: { authorization: string | undefined,
 *   params: URLSearchParams }[], close: () => Promise<void> }>}
 */
export async function startUpstream() {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const authorizationRequests = [];
  const tokenRequests = [];

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'upstream-rs256' }] },
    cookies: { keys: [randomUUID()] },
    acrValues: UPSTREAM_ACRS,
    scopes: ['openid', 'profile', 'email'],
    claims: {
      openid: ['sub', 'acr'], // acr in every ID token, asked for or not
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    pkce: { required: () => true },
    async findAccount(_ctx, id) {
      const known = UPSTREAM_ACCOUNTS[id];
      const claims = known ?? { email: `${id}@upstream.example`, given_name: 'Test', family_name: id };
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          ...claims,
          email_verified: true,
          name: `${claims.given_name} ${claims.family_name}`,
        }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
  });

  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth') authorizationRequests.push(new URLSearchParams(ctx.querystring));
    if (ctx.path === '/token' && ctx.method === 'POST') {
      // read the body once here and hand oidc-provider a parsed copy
      const params = await readForm(ctx.req);
      tokenRequests.push({ authorization: ctx.get('authorization') || undefined, params });
      ctx.req.body = Object.fromEntries(params);
    }
    await next();
  });

  provider.use(async (ctx, next) => {
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
    if (!m) return next();
    ctx.set('cache-control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let result;
    if (details.prompt.name === 'login') {
      if (ctx.method === 'GET') {
        ctx.type = 'html';
        ctx.body = loginPage(details.uid);
        return;
      }
      const form = await readForm(ctx.req);
      const accountId = (form.get('username') ?? '').trim() || 'anonymous';
      const acr = form.get('acr') || undefined;
      result = { login: { accountId, ...(acr ? { acr } : {}) } };
    } else {
      // consent: grant what is asked for, without a page
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const d = details.prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      result = { consent: { grantId: await grant.save() } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  server.on('request', provider.callback());

  return {
    issuer,
    provider,
    authorizationRequests,
    tokenRequests,
    async registerClient({ clientId, clientSecret, redirectUri }) {
      // stored like a dynamically registered client; validated by oidc-provider on first use
      await provider.Client.adapter.upsert(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
      const client = await provider.Client.find(clientId);
      if (!client) throw new Error(`upstream: client ${clientId} not registered`);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
