// Helpers for the OpenID Connect tests (tests/oidc*.test.mjs) and the token benchmark
// (benches/oidc/): discovery with a clear failure when the server has no OIDC provider,
// openid-client configurations for the demo clients, a loopback redirect server (RFC 8252 §7.3),
// and the browser steps of the authorization code flow (login form, consent screen).
//
// Everything here talks to 127.0.0.1 over plain HTTP, which openid-client v6 refuses unless
// `allowInsecureRequests` is passed: it is passed here and only here.
import http from 'node:http';
import * as client from 'openid-client';
import * as jose from 'jose';

export { client };

/** eIDAS levels of assurance, the `acr` values of the contract. */
export const LOA = Object.freeze({
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
});

/** What `rathaus demo` seeds for the Servicekonto. */
export const DEMO = Object.freeze({
  email: 'erika.mustermann@example.org',
  password: 'Demo-Passwort-1',
  spa: 'demo-spa', // public client, PKCE S256, loopback redirect on any port
  backoffice: 'demo-backoffice', // confidential, client_credentials
  backofficeSecret: 'demo-secret',
});

/** Accessible names of the login and consent pages (exact matches). */
export const UI = Object.freeze({
  email: 'E-Mail',
  password: 'Passwort',
  login: 'Anmelden',
  consent: 'Zustimmen',
  deny: 'Ablehnen',
});

/** ID-token signing algorithm the tests expect (server default ES256). */
export function expectedSigningAlg() {
  return process.env.RATHAUS_IDENTITY__SIGNING_ALG || 'ES256';
}

/** Timeout for one browser step on a busy 2-core machine. */
export const STEP_TIMEOUT_MS = 30_000;

/**
 * Fetches the discovery document and fails with a clear message when the server has no OpenID
 * Connect provider (e.g. a build from before the Servicekonto landed).
 * @param {string} issuer e.g. "http://127.0.0.1:41234" (no trailing slash)
 * @returns {Promise<Record<string, any>>}
 */
export async function requireDiscovery(issuer) {
  const url = `${issuer}/.well-known/openid-configuration`;
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (err) {
    throw new Error(`GET ${url} failed: ${err.message}`);
  }
  const body = await response.text();
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  if (response.status !== 200 || !json || typeof json !== 'object') {
    throw new Error(
      `The server at ${issuer} has no OpenID Connect provider: GET /.well-known/openid-configuration ` +
        `answered HTTP ${response.status} (${response.headers.get('content-type') ?? 'no content type'}), ` +
        `not a JSON discovery document. These tests need a rathaus binary with the Servicekonto ` +
        `(OIDC provider); rebuild it (cargo build) or set RATHAUS_BIN / RATHAUS_BASE_URL.\n` +
        `Body (first 300 chars): ${body.slice(0, 300)}`,
    );
  }
  return json;
}

/**
 * openid-client configuration for a client of `issuer` (discovery included).
 * @param {string} issuer
 * @param {string} clientId
 * @param {{ secret?: string, auth?: 'basic' | 'post' | 'none', metadata?: object }} [opts]
 *   auth defaults to 'basic' with a secret and 'none' without one.
 */
export async function oidcConfig(issuer, clientId, opts = {}) {
  const auth = opts.auth ?? (opts.secret ? 'basic' : 'none');
  const clientAuth =
    auth === 'basic'
      ? client.ClientSecretBasic(opts.secret)
      : auth === 'post'
        ? client.ClientSecretPost(opts.secret)
        : client.None();
  return client.discovery(new URL(issuer), clientId, opts.metadata, clientAuth, {
    // plain http on loopback only; ID tokens from the token endpoint are signature-checked too
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
}

/**
 * A tiny HTTP server on 127.0.0.1 and a random port that plays the client's loopback redirect
 * target: it answers every path with a small German HTML page and records each request URL.
 * @returns {Promise<{ origin: string, redirectUri: string, postLogoutRedirectUri: string,
 *   requests: URL[], hits: (pathname: string) => URL[], close: () => Promise<void> }>}
 */
export async function startLoopbackClient() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, origin);
    requests.push(url);
    const title = url.pathname === '/callback' ? 'Anmeldung zurück beim Testclient' : 'Testclient';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${title}</title></head>` +
        `<body><main><h1>${title}</h1><p>Pfad: ${escapeHtml(url.pathname)}</p></main></body></html>`,
    );
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    postLogoutRedirectUri: `${origin}/`,
    requests,
    hits: (pathname) => requests.filter((u) => u.pathname === pathname),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Builds an authorization request with PKCE S256, state and nonce.
 * @param {client.Configuration} config
 * @param {{ redirectUri: string, scope?: string, params?: Record<string, string> }} opts
 * @returns {Promise<{ url: URL, checks: { pkceCodeVerifier: string, expectedState: string,
 *   expectedNonce: string } }>}
 */
export async function authorizationRequest(config, { redirectUri, scope = 'openid', params = {} }) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    ...params,
  });
  return { url, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

/**
 * Waits until the page shows one of the steps of an authorization: the client's loopback
 * redirect target ('callback'), the login form ('login') or the consent screen ('consent').
 * @param {import('playwright-core').Page} page
 * @param {{ callbackOrigin: string, timeout?: number, loginLabel?: string }} opts
 * @returns {Promise<'callback' | 'login' | 'consent'>}
 */
export async function waitForStep(page, { callbackOrigin, timeout = STEP_TIMEOUT_MS, loginLabel = UI.password }) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (page.url().startsWith(callbackOrigin + '/')) {
        await page.waitForLoadState('load');
        return 'callback';
      }
      if ((await page.getByRole('button', { name: UI.consent, exact: true }).count()) > 0) {
        await page.waitForLoadState('load');
        return 'consent';
      }
      if ((await page.getByLabel(loginLabel, { exact: true }).count()) > 0) {
        await page.waitForLoadState('load');
        return 'login';
      }
    } catch (err) {
      // "Execution context was destroyed" while a navigation is under way: look again.
      if (!/context was destroyed|navigation/i.test(err.message)) throw err;
    }
    if (Date.now() > deadline) {
      let text = '';
      try {
        text = (await page.locator('body').innerText({ timeout: 1000 })).slice(0, 500);
      } catch {
        // page gone
      }
      throw new Error(
        `no login form, consent screen or redirect to ${callbackOrigin} within ${timeout / 1000} s; ` +
          `page is at ${page.url()}:\n${text}`,
      );
    }
    await page.waitForTimeout(100);
  }
}

/**
 * Fills and submits the Rathaus login form.
 * @param {import('playwright-core').Page} page
 */
export async function submitLogin(page, { email = DEMO.email, password = DEMO.password } = {}) {
  await page.getByLabel(UI.email, { exact: true }).fill(email);
  await page.getByLabel(UI.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: UI.login, exact: true }).click();
}

/**
 * Drives an authorization in the browser until the redirect back to the client: logs in with the
 * password form when asked, accepts the consent screen when shown.
 * @param {import('playwright-core').Page} page
 * @param {URL | string} authorizationUrl
 * @param {{ callbackOrigin: string, email?: string, password?: string,
 *   login?: (page) => Promise<void>,
 *   onLoginPage?: (page) => Promise<void>, onConsentPage?: (page) => Promise<void> }} opts
 *   login replaces the password login (e.g. by an upstream login; it returns once the browser has
 *   left the login page); the hooks run before the form is filled / the button is clicked (e.g.
 *   for axe checks)
 * @returns {Promise<{ callbackUrl: URL, steps: string[] }>}
 */
export async function authorizeInBrowser(page, authorizationUrl, opts) {
  const steps = [];
  await page.goto(String(authorizationUrl));
  for (let i = 0; i < 6; i++) {
    const step = await waitForStep(page, opts);
    steps.push(step);
    if (step === 'callback') return { callbackUrl: new URL(page.url()), steps };
    if (step === 'login') {
      if (steps.filter((s) => s === 'login').length > 1) {
        throw new Error(`login form shown again after submitting it (wrong credentials?) at ${page.url()}`);
      }
      if (opts.onLoginPage) await opts.onLoginPage(page);
      if (opts.login) await opts.login(page);
      else await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), submitLogin(page, opts)]);
    } else {
      if (opts.onConsentPage) await opts.onConsentPage(page);
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }),
        page.getByRole('button', { name: UI.consent, exact: true }).click(),
      ]);
    }
  }
  throw new Error(`authorization did not finish; steps: ${steps.join(' → ')}; page at ${page.url()}`);
}

/**
 * Full code flow for a public client in a fresh browser context: browser login + consent, then
 * the code exchange with openid-client (which checks state, nonce, PKCE, iss and the ID token
 * signature).
 * @returns {Promise<{ tokens: object, claims: object, callbackUrl: URL, context }>} the context
 *   stays open (its cookies hold the session); the caller closes it.
 */
export async function codeFlow({ browser, config, loopback, scope = 'openid', params, email, password, login, hooks = {} }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { url, checks } = await authorizationRequest(config, { redirectUri: loopback.redirectUri, scope, params });
  const { callbackUrl, steps } = await authorizeInBrowser(page, url, {
    callbackOrigin: loopback.origin,
    email,
    password,
    login,
    ...hooks,
  });
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    ...checks,
    idTokenExpected: scope.split(' ').includes('openid'),
  });
  await page.close();
  return { tokens, claims: tokens.claims(), callbackUrl, steps, context };
}

/** Decodes the protected header of a compact JWS without checking it. */
export function jwtHeader(token) {
  return jose.decodeProtectedHeader(token);
}

/**
 * Verifies an RFC 9068 access token against the issuer's JWKS.
 * @returns {Promise<{ payload: object, protectedHeader: object }>}
 */
export async function verifyAccessToken(token, { issuer, jwksUri }) {
  const jwks = jose.createRemoteJWKSet(new URL(jwksUri));
  return jose.jwtVerify(token, jwks, { issuer, typ: 'at+jwt' });
}

/** The OAuth error code of an openid-client error (token endpoint or authorization response). */
export function oauthError(err) {
  if (typeof err?.error === 'string') return err.error;
  if (Array.isArray(err?.cause)) {
    for (const challenge of err.cause) if (challenge?.parameters?.error) return challenge.parameters.error;
  }
  if (typeof err?.cause?.error === 'string') return err.cause.error;
  return undefined;
}

/**
 * Mints `count` refresh tokens for a public client (used by benches/oidc): one browser login,
 * then as many authorizations as needed in the same session, each exchanged for tokens.
 * @param {{ browser, issuer: string, clientId: string, count: number, scope?: string,
 *   params?: Record<string, string>, email?: string, password?: string,
 *   onProgress?: (n: number) => void }} opts
 * @returns {Promise<string[]>}
 */
export async function mintRefreshTokens(opts) {
  const { browser, issuer, clientId, count } = opts;
  const scope = opts.scope ?? 'openid offline_access';
  const config = await oidcConfig(issuer, clientId);
  const loopback = await startLoopbackClient();
  const context = await browser.newContext();
  const page = await context.newPage();
  const tokens = [];
  try {
    while (tokens.length < count) {
      const { url, checks } = await authorizationRequest(config, {
        redirectUri: loopback.redirectUri,
        scope,
        params: opts.params,
      });
      const { callbackUrl } = await authorizeInBrowser(page, url, {
        callbackOrigin: loopback.origin,
        email: opts.email,
        password: opts.password,
      });
      const response = await client.authorizationCodeGrant(config, callbackUrl, checks);
      if (!response.refresh_token) {
        throw new Error(`${issuer} issued no refresh token for scope "${scope}" (response keys: ${Object.keys(response)})`);
      }
      tokens.push(response.refresh_token);
      opts.onProgress?.(tokens.length);
    }
  } finally {
    await context.close();
    await loopback.close();
  }
  return tokens;
}
