#!/usr/bin/env node
// oidc-provider (npm, panva/node-oidc-provider) set up like the Rathaus Servicekonto contract, as
// the comparison point of the token benchmark (benches/oidc/run.sh). It can also stand in for
// Rathaus to check the browser tests themselves (see benches/oidc/README.md, "Self-check").
//
//   node benches/oidc/op-server.mjs [--port 0] [--alg ES256|RS256]
//
// Prints "oidc-provider bereit: http://127.0.0.1:PORT/" on stdout when it listens.
//
// What it serves (same names as `rathaus demo`):
// - citizen erika.mustermann@example.org / Demo-Passwort-1 (acr http://eidas.europa.eu/LoA/low),
//   a German login form (E-Mail, Passwort, Anmelden) and consent screen (Zustimmen, Ablehnen);
// - demo-backoffice / demo-secret (client_secret_basic only: oidc-provider allows one
//   token_endpoint_auth_method per client), client_credentials;
// - demo-spa: public, PKCE S256, native loopback redirect http://127.0.0.1/callback on any port,
//   post-logout http://127.0.0.1/ on any port, refresh tokens with offline_access (rotated; reuse
//   revokes the grant).
// - Access tokens are JWTs (RFC 9068) signed with --alg, through the resource indicators feature:
//   every token request gets the default resource "urn:rathaus:bench". OP_USERINFO_TOKENS=1
//   leaves authorization-code/refresh access tokens opaque instead, so that they work at
//   userinfo (oidc-provider issues userinfo access tokens only as opaque tokens).
// - offline_access without prompt=consent: oidc-provider drops the scope then (OIDC Core §11);
//   Rathaus's contract does not require prompt=consent, so this server adds prompt=consent to
//   such authorization requests.
// - Storage: an in-memory Map adapter (MapAdapter below). oidc-provider's bundled memory adapter
//   is a 1000-entry LRU meant for development and would distort a benchmark.
import { createRequire } from 'node:module';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BROWSER_DIR = path.resolve(HERE, '..', '..', 'browser');
// oidc-provider is installed once, as a devDependency of browser/ (npm ci there).
const requireFromBrowser = createRequire(path.join(BROWSER_DIR, 'package.json'));
let Provider;
try {
  ({ default: Provider } = await import(pathToFileURL(requireFromBrowser.resolve('oidc-provider')).href));
} catch (err) {
  console.error(`Fehler: oidc-provider not found under ${BROWSER_DIR}/node_modules (run npm ci in browser/): ${err.message}`);
  process.exit(2);
}

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OP_PORT ?? '0' },
    alg: { type: 'string', default: process.env.SIGNING_ALG ?? 'ES256' },
  },
});
const ALG = args.alg;
if (!['ES256', 'RS256'].includes(ALG)) {
  console.error(`Fehler: --alg must be ES256 or RS256, not ${ALG}`);
  process.exit(2);
}
const USERINFO_TOKENS = process.env.OP_USERINFO_TOKENS === '1';
const RESOURCE = 'urn:rathaus:bench';

export const LOA_LOW = 'http://eidas.europa.eu/LoA/low';
const ACCOUNTS = new Map([
  [
    'erika.mustermann@example.org',
    {
      sub: randomUUID(),
      password: 'Demo-Passwort-1',
      claims: {
        email: 'erika.mustermann@example.org',
        email_verified: true,
        given_name: 'Erika',
        family_name: 'Mustermann',
        name: 'Erika Mustermann',
        address: { street_address: 'Heidestraße 17', postal_code: '51147', locality: 'Köln', country: 'DE' },
      },
    },
  ],
]);
const ACCOUNTS_BY_SUB = new Map([...ACCOUNTS.values()].map((a) => [a.sub, a]));

// ---- signing keys -----------------------------------------------------------------------------
function signingJwk(alg) {
  const { privateKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `bench-${alg.toLowerCase()}` };
}

// ---- storage ---------------------------------------------------------------------------------
const store = new Map(); // "Model:id" -> { payload, expiresAt }
const grantMembers = new Map(); // grantId -> Set of "Model:id"
const sessionUids = new Map();
const userCodes = new Map();
const epoch = () => Math.floor(Date.now() / 1000);

class MapAdapter {
  constructor(model) {
    this.model = model;
  }
  key(id) {
    return `${this.model}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    store.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      let members = grantMembers.get(payload.grantId);
      if (!members) grantMembers.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    if (this.model === 'Session' && payload.uid) sessionUids.set(payload.uid, id);
    if (payload.userCode) userCodes.set(payload.userCode, id);
  }
  async find(id) {
    const key = this.key(id);
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  }
  async findByUid(uid) {
    const id = sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }
  async findByUserCode(userCode) {
    const id = userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }
  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = epoch();
  }
  async destroy(id) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    const members = grantMembers.get(grantId);
    if (!members) return;
    for (const key of members) store.delete(key);
    grantMembers.delete(grantId);
  }
}
// Expired entries go away once a minute.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) if (entry.expiresAt <= now) store.delete(key);
  for (const [grantId, members] of grantMembers) {
    for (const key of members) if (!store.has(key)) members.delete(key);
    if (members.size === 0) grantMembers.delete(grantId);
  }
}, 60_000).unref();

// ---- pages -------------------------------------------------------------------------------------
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) =>
  `<!doctype html><html lang="de"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title></head>` +
  `<body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;

function loginPage(uid, { email = '', error } = {}) {
  return page(
    'Anmelden',
    (error ? `<p role="alert">${esc(error)}</p>` : '') +
      `<form method="post" action="/interaction/${esc(uid)}/login">` +
      `<p><label for="email">E-Mail</label> <input id="email" name="email" type="email" autocomplete="username" value="${esc(email)}" required></p>` +
      `<p><label for="password">Passwort</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>` +
      `<p><button type="submit">Anmelden</button></p></form>`,
  );
}

function consentPage(uid, clientId, scopes) {
  return page(
    'Zustimmung',
    `<p>Die Anwendung <strong>${esc(clientId)}</strong> möchte auf diese Angaben zugreifen:</p>` +
      `<ul>${scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` +
      `<form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Zustimmen</button></form>` +
      `<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Ablehnen</button></form>`,
  );
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// ---- provider ----------------------------------------------------------------------------------
export async function createProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    clients: [
      {
        client_id: 'demo-backoffice',
        client_secret: 'demo-secret',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'api',
      },
      {
        client_id: 'demo-spa',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/'],
        id_token_signed_response_alg: ALG,
      },
    ],
    // Both algorithms are published (as Rathaus does); --alg decides which one signs.
    jwks: { keys: [signingJwk('ES256'), signingJwk('RS256')] },
    cookies: { keys: [randomUUID()] },
    acrValues: [LOA_LOW, 'http://eidas.europa.eu/LoA/substantial', 'http://eidas.europa.eu/LoA/high'],
    scopes: ['openid', 'profile', 'email', 'address', 'offline_access', 'api'],
    claims: {
      openid: ['sub', 'acr'], // acr in every ID token, asked for or not
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
      address: ['address'],
    },
    async findAccount(_ctx, sub) {
      const account = ACCOUNTS_BY_SUB.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Confirm without asking, as Rathaus does with an id_token_hint.
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body =
            `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Abmelden</title></head><body><main>` +
            `<h1>Abmelden</h1>${form}<script>var f=document.forms[0];var i=document.createElement('input');` +
            `i.type='hidden';i.name='logout';i.value='yes';f.appendChild(i);f.submit();</script></main></body></html>`;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource(ctx) {
          if (USERINFO_TOKENS && ctx.oidc.params?.grant_type !== 'client_credentials') return undefined;
          return RESOURCE;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api',
          audience: RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: ALG } },
        }),
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(
        'Fehler',
        `<p role="alert">${esc(out.error)}: ${esc(out.error_description ?? '')}</p>`,
      );
    },
  });
  provider.proxy = false;

  // offline_access without prompt=consent: add it (see the header).
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      const q = new URLSearchParams(ctx.querystring);
      if ((q.get('scope') ?? '').split(' ').includes('offline_access') && !q.has('prompt')) {
        q.set('prompt', 'consent');
        ctx.querystring = q.toString();
      }
    }
    await next();
  });

  // Login and consent (the interactions).
  provider.use(async (ctx, next) => {
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(ctx.path);
    if (!m) return next();
    const [, uid, action] = m;
    ctx.set('cache-control', 'no-store');
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
    const { prompt, params, session } = details;

    if (ctx.method === 'GET' && !action) {
      ctx.type = 'html';
      ctx.body =
        prompt.name === 'login'
          ? loginPage(uid)
          : consentPage(uid, params.client_id, String(params.scope ?? '').split(' '));
      return;
    }
    if (ctx.method !== 'POST') ctx.throw(405);

    let result;
    if (action === 'login') {
      const form = await readForm(ctx.req);
      const account = ACCOUNTS.get(form.get('email') ?? '');
      if (!account || account.password !== form.get('password')) {
        ctx.type = 'html';
        ctx.body = loginPage(uid, { email: form.get('email') ?? '', error: 'E-Mail oder Passwort ist falsch.' });
        return;
      }
      result = { login: { accountId: account.sub, acr: LOA_LOW, amr: ['pwd'] } };
    } else if (action === 'confirm') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    } else {
      result = { error: 'access_denied', error_description: 'Die Zustimmung wurde abgelehnt.' };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: action === 'confirm',
    });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });
  return provider;
}

// ---- main --------------------------------------------------------------------------------------
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = await createProvider(issuer);
  server.on('request', provider.callback());
  process.stdout.write(`oidc-provider bereit: ${issuer}/ (alg ${ALG}, pid ${process.pid})\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
