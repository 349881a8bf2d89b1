// Interoperability tests of the Servicekonto's OpenID Connect provider with the certified
// relying-party library openid-client (v6) and a real login in headless Chromium.
//
// The tests run in order and share one demo server: the consent screen is declined before it is
// ever accepted (it is shown only while the citizen has not agreed yet).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';
import {
  DEMO,
  LOA,
  UI,
  STEP_TIMEOUT_MS,
  client,
  authorizationRequest,
  authorizeInBrowser,
  codeFlow,
  expectedSigningAlg,
  jwtHeader,
  oauthError,
  oidcConfig,
  requireDiscovery,
  startLoopbackClient,
  submitLogin,
  verifyAccessToken,
  waitForStep,
} from '../lib/oidc.mjs';

const ALL_SCOPES = 'openid profile email address offline_access';

async function assertNoAxeViolations(page, what) {
  const violations = await checkA11y(page);
  assert.equal(violations.length, 0, `${what} (${page.url()}):\n${formatViolations(violations)}`);
}

/** Expects `promise` to fail with OAuth error `code`. */
async function assertOAuthError(promise, code, what) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `${what}: expected error "${code}", but it succeeded`);
  assert.equal(oauthError(err), code, `${what}: expected error "${code}", got: ${err?.stack ?? err}`);
}

describe('Servicekonto: OpenID Connect provider (openid-client, Chromium)', () => {
  const ctx = useServerAndBrowser();
  /** @type {Record<string, any>} */ let discovery;
  /** @type {client.Configuration} */ let spa; // public client demo-spa
  /** @type {client.Configuration} */ let backoffice; // confidential client demo-backoffice
  /** @type {Awaited<ReturnType<typeof startLoopbackClient>>} */ let loopback;
  let issuer;

  before(async () => {
    issuer = ctx.server.baseUrl;
    loopback = await startLoopbackClient();
    discovery = await requireDiscovery(issuer); // fails clearly without an OIDC provider
    spa = await oidcConfig(issuer, DEMO.spa, {
      metadata: { id_token_signed_response_alg: expectedSigningAlg() },
    });
    backoffice = await oidcConfig(issuer, DEMO.backoffice, { secret: DEMO.backofficeSecret });
  });
  after(async () => {
    await loopback?.close();
  });

  /** Code flow for demo-spa as Erika in a fresh browser context. */
  const login = (opts = {}) =>
    codeFlow({ browser: ctx.browser, config: spa, loopback, scope: 'openid', ...opts });

  test('discovery document lists the endpoints and capabilities of the contract', async () => {
    assert.equal(discovery.issuer, issuer, 'issuer is the instance root without trailing slash');
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'introspection_endpoint',
      'end_session_endpoint',
    ]) {
      assert.equal(typeof discovery[key], 'string', `${key} present`);
      assert.equal(new URL(discovery[key]).origin, issuer, `${key} is served by the issuer`);
    }
    // Required by OpenID Connect Discovery 1.0 §3.
    assert.ok(discovery.response_types_supported?.includes('code'), 'response_types_supported has "code"');
    assert.ok(Array.isArray(discovery.subject_types_supported), 'subject_types_supported present');
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256'], 'only S256');
    for (const acr of Object.values(LOA)) {
      assert.ok(discovery.acr_values_supported?.includes(acr), `acr_values_supported has ${acr}`);
    }
    for (const alg of ['ES256', 'RS256']) {
      assert.ok(discovery.id_token_signing_alg_values_supported?.includes(alg), `ID token alg ${alg} supported`);
    }
    for (const scope of ALL_SCOPES.split(' ')) {
      if (discovery.scopes_supported) assert.ok(discovery.scopes_supported.includes(scope), `scope ${scope}`);
    }

    const jwksResponse = await fetch(discovery.jwks_uri);
    assert.equal(jwksResponse.status, 200, 'JWKS answers 200');
    const jwks = await jwksResponse.json();
    assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0, 'JWKS has keys');
    for (const key of jwks.keys) {
      assert.ok(key.kid, 'every key has a kid');
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
        assert.equal(key[privateMember], undefined, `JWKS publishes no private key member "${privateMember}"`);
      }
    }
  });

  test('wrong password: the login form is shown again with an error; no axe violations', async () => {
    const context = await ctx.browser.newContext();
    try {
      const page = await context.newPage();
      const { url } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri });
      await page.goto(String(url));
      assert.equal(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login');
      assert.equal(new URL(page.url()).origin, issuer, 'login form is served by Rathaus');
      await assertNoAxeViolations(page, 'login page');

      await Promise.all([
        page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }),
        submitLogin(page, { password: 'Falsches-Passwort-1' }),
      ]);
      await page.locator('[role="alert"]').first().waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.ok((await page.locator('[role="alert"]').first().innerText()).trim().length > 0, 'error text');
      assert.equal(await page.getByLabel(UI.email, { exact: true }).count(), 1, 'E-Mail field shown again');
      assert.equal(await page.getByLabel(UI.password, { exact: true }).count(), 1, 'Passwort field shown again');
      assert.equal(
        await page.getByRole('button', { name: UI.login, exact: true }).count(),
        1,
        'Anmelden button shown again',
      );
      assert.equal(await page.getByLabel(UI.password, { exact: true }).inputValue(), '', 'password not echoed');
      assert.equal(loopback.hits('/callback').length, 0, 'no redirect to the client');
      await assertNoAxeViolations(page, 'login page with error');

      // The form still works: the right password leads on to consent.
      await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), submitLogin(page)]);
      const step = await waitForStep(page, { callbackOrigin: loopback.origin });
      assert.notEqual(step, 'login', 'correct password accepted after a wrong one');
    } finally {
      await context.close();
    }
  });

  test('consent screen: no axe violations; "Ablehnen" returns access_denied to the client', async () => {
    const context = await ctx.browser.newContext();
    try {
      const page = await context.newPage();
      const { url, checks } = await authorizationRequest(spa, {
        redirectUri: loopback.redirectUri,
        scope: 'openid profile email',
      });
      await page.goto(String(url));
      assert.equal(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login');
      await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), submitLogin(page)]);
      assert.equal(
        await waitForStep(page, { callbackOrigin: loopback.origin }),
        'consent',
        'consent screen shown (Erika has not agreed to demo-spa yet: this test runs before any "Zustimmen")',
      );
      assert.equal(new URL(page.url()).origin, issuer, 'consent screen is served by Rathaus');
      assert.equal(await page.getByRole('button', { name: UI.deny, exact: true }).count(), 1, 'Ablehnen button');
      await assertNoAxeViolations(page, 'consent page');

      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(loopback.origin + '/'), { timeout: STEP_TIMEOUT_MS }),
        page.getByRole('button', { name: UI.deny, exact: true }).click(),
      ]);
      const callbackUrl = new URL(page.url());
      assert.equal(callbackUrl.pathname, '/callback');
      assert.equal(callbackUrl.searchParams.get('error'), 'access_denied');
      assert.equal(callbackUrl.searchParams.get('state'), checks.expectedState, 'state echoed');
      assert.equal(callbackUrl.searchParams.get('code'), null, 'no code');
      await assertOAuthError(
        client.authorizationCodeGrant(spa, callbackUrl, checks),
        'access_denied',
        'openid-client on the declined response',
      );
    } finally {
      await context.close();
    }
  });

  test('authorization code + PKCE (demo-spa, loopback redirect on a random port): ID token and JWT access token', async () => {
    const { tokens, claims, steps, context } = await login({ scope: 'openid profile email address' });
    try {
      assert.ok(steps.includes('login'), `login form shown (steps: ${steps.join(' → ')})`);
      // openid-client has checked signature (JWKS), iss, aud, exp, nonce, state and PKCE.
      assert.equal(claims.iss, issuer);
      assert.ok([claims.aud].flat().includes(DEMO.spa), 'aud contains demo-spa');
      assert.ok(typeof claims.sub === 'string' && claims.sub.length > 0, 'sub');
      assert.equal(claims.acr, LOA.low, 'password login without TOTP is LoA low');
      const idHeader = jwtHeader(tokens.id_token);
      assert.equal(idHeader.alg, expectedSigningAlg(), 'ID token signing alg');
      assert.ok(idHeader.kid, 'ID token header has a kid');
      assert.equal(tokens.token_type.toLowerCase(), 'bearer');
      assert.ok(tokens.expires_in > 0, 'expires_in');
      assert.equal(tokens.refresh_token, undefined, 'no refresh token without offline_access');

      // RFC 9068 access token, signed with a key of the JWKS.
      const { payload, protectedHeader } = await verifyAccessToken(tokens.access_token, {
        issuer,
        jwksUri: discovery.jwks_uri,
      });
      assert.equal(protectedHeader.typ.toLowerCase().replace(/^application\//, ''), 'at+jwt');
      for (const claim of ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']) {
        assert.notEqual(payload[claim], undefined, `access token claim ${claim} (RFC 9068 §2.2)`);
      }
      assert.equal(payload.sub, claims.sub, 'access token sub = ID token sub');
      assert.equal(payload.client_id, DEMO.spa);
    } finally {
      await context.close();
    }
  });

  test('an authorization code can be exchanged only once; a wrong PKCE verifier is refused', async () => {
    const context = await ctx.browser.newContext();
    try {
      const page = await context.newPage();
      // 1. the right verifier, twice
      let { url, checks } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri });
      let { callbackUrl } = await authorizeInBrowser(page, url, { callbackOrigin: loopback.origin });
      await client.authorizationCodeGrant(spa, callbackUrl, checks);
      await assertOAuthError(client.authorizationCodeGrant(spa, callbackUrl, checks), 'invalid_grant', 'second use of a code');
      // 2. a wrong verifier (same session, so no login form this time)
      ({ url, checks } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri }));
      ({ callbackUrl } = await authorizeInBrowser(page, url, { callbackOrigin: loopback.origin }));
      await assertOAuthError(
        client.authorizationCodeGrant(spa, callbackUrl, { ...checks, pkceCodeVerifier: client.randomPKCECodeVerifier() }),
        'invalid_grant',
        'code exchange with a wrong code_verifier',
      );
    } finally {
      await context.close();
    }
  });

  test('userinfo returns the citizen for the access token', async () => {
    const { tokens, claims, context } = await login({ scope: 'openid profile email' });
    await context.close();
    const userinfo = await client.fetchUserInfo(spa, tokens.access_token, claims.sub);
    assert.equal(userinfo.sub, claims.sub);
    assert.equal(userinfo.email, DEMO.email);

    const noToken = await fetch(discovery.userinfo_endpoint);
    assert.equal(noToken.status, 401, 'userinfo without a token answers 401');
  });

  test('offline_access: refresh tokens rotate; reusing an old one revokes the whole family', async () => {
    const { tokens, context } = await login({ scope: 'openid offline_access' });
    await context.close();
    const first = tokens.refresh_token;
    assert.ok(first, 'a refresh token for offline_access');

    const second = await client.refreshTokenGrant(spa, first);
    assert.ok(second.access_token, 'new access token');
    assert.notEqual(second.access_token, tokens.access_token, 'access token is new');
    assert.ok(second.refresh_token, 'rotation: a new refresh token');
    assert.notEqual(second.refresh_token, first, 'rotation: a different refresh token');

    const third = await client.refreshTokenGrant(spa, second.refresh_token);
    assert.ok(third.refresh_token && third.refresh_token !== second.refresh_token, 'rotates again');

    await assertOAuthError(client.refreshTokenGrant(spa, first), 'invalid_grant', 'reuse of a rotated refresh token');
    await assertOAuthError(
      client.refreshTokenGrant(spa, third.refresh_token),
      'invalid_grant',
      'newest refresh token after reuse detection (family revoked)',
    );
    const introspected = await client.tokenIntrospection(backoffice, third.refresh_token);
    assert.equal(introspected.active, false, 'newest refresh token is inactive after reuse detection');
  });

  test('client credentials (demo-backoffice): client_secret_basic and client_secret_post', async () => {
    const post = await oidcConfig(issuer, DEMO.backoffice, { secret: DEMO.backofficeSecret, auth: 'post' });
    for (const [name, config] of [
      ['client_secret_basic', backoffice],
      ['client_secret_post', post],
    ]) {
      const tokens = await client.clientCredentialsGrant(config);
      assert.equal(tokens.token_type.toLowerCase(), 'bearer', name);
      assert.ok(tokens.expires_in > 0, `${name}: expires_in`);
      assert.equal(tokens.refresh_token, undefined, `${name}: no refresh token (RFC 6749 §4.4.3)`);
      assert.equal(tokens.id_token, undefined, `${name}: no ID token`);
      const { payload } = await verifyAccessToken(tokens.access_token, { issuer, jwksUri: discovery.jwks_uri });
      assert.equal(payload.client_id, DEMO.backoffice, `${name}: client_id claim`);
    }

    const wrong = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${DEMO.backoffice}:falsch`).toString('base64'),
      },
      body: 'grant_type=client_credentials',
    });
    assert.equal(wrong.status, 401, 'wrong client secret answers 401');
    assert.equal((await wrong.json()).error, 'invalid_client');
  });

  test('introspection (demo-backoffice) and revocation (demo-spa, a public client)', async () => {
    const { tokens, claims, context } = await login({ scope: 'openid offline_access' });
    await context.close();

    const at = await client.tokenIntrospection(backoffice, tokens.access_token);
    assert.equal(at.active, true, 'fresh access token is active');
    assert.equal(at.client_id, DEMO.spa, 'introspection: client_id');
    assert.equal(at.sub, claims.sub, 'introspection: sub');
    const rt = await client.tokenIntrospection(backoffice, tokens.refresh_token);
    assert.equal(rt.active, true, 'fresh refresh token is active');

    await client.tokenRevocation(spa, tokens.access_token);
    assert.equal(
      (await client.tokenIntrospection(backoffice, tokens.access_token)).active,
      false,
      'revoked access token is inactive',
    );

    await client.tokenRevocation(spa, tokens.refresh_token);
    assert.equal(
      (await client.tokenIntrospection(backoffice, tokens.refresh_token)).active,
      false,
      'revoked refresh token is inactive',
    );
    await assertOAuthError(client.refreshTokenGrant(spa, tokens.refresh_token), 'invalid_grant', 'revoked refresh token');

    // RFC 7009 §2.2: revoking an unknown token is a success; RFC 7662: unknown → inactive.
    await client.tokenRevocation(spa, 'gibt-es-nicht');
    const unknown = await client.tokenIntrospection(backoffice, 'gibt-es-nicht');
    assert.deepEqual(unknown, { active: false }, 'unknown token: exactly {"active": false}');
  });

  test('a redirect URI differing by one character is refused at Rathaus, without redirect', async () => {
    const port = new URL(loopback.origin).port;
    const variants = [
      `http://127.0.0.1:${port}/callbacc`, // one character changed
      `http://127.0.0.1:${port}/callbackx`, // one character appended
      `http://127.0.0.2:${port}/callback`, // other loopback address
    ];
    for (const redirectUri of variants) {
      const context = await ctx.browser.newContext();
      try {
        const page = await context.newPage();
        const { url } = await authorizationRequest(spa, { redirectUri });
        const response = await page.goto(String(url));
        await page.waitForLoadState('load');
        assert.equal(new URL(page.url()).origin, issuer, `${redirectUri}: the browser stays at Rathaus`);
        assert.ok(
          response.status() >= 400 && response.status() < 500,
          `${redirectUri}: error page with a 4xx status, got ${response.status()}`,
        );
        assert.equal(await page.getByLabel(UI.password, { exact: true }).count(), 0, `${redirectUri}: no login form`);
        const badPath = new URL(redirectUri).pathname;
        if (badPath !== '/callback') assert.equal(loopback.hits(badPath).length, 0, `${redirectUri}: never requested`);
        if (redirectUri === variants[0]) await assertNoAxeViolations(page, 'error page for a bad redirect URI');
      } finally {
        await context.close();
      }
    }
  });

  test('demo-spa without PKCE (or with method "plain") is refused at the authorization endpoint', async () => {
    const cases = [
      ['no code_challenge', (p) => (p.delete('code_challenge'), p.delete('code_challenge_method'))],
      ['code_challenge_method=plain', (p) => (p.set('code_challenge', 'a'.repeat(43)), p.set('code_challenge_method', 'plain'))],
    ];
    for (const [name, change] of cases) {
      const context = await ctx.browser.newContext();
      try {
        const page = await context.newPage();
        const { url, checks } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri });
        change(url.searchParams);
        const response = await page.goto(String(url));
        await page.waitForLoadState('load');
        const landed = new URL(page.url());
        if (landed.origin === loopback.origin) {
          // RFC 7636 §4.4.1: an error response to the client
          assert.equal(landed.searchParams.get('error'), 'invalid_request', `${name}: error=invalid_request`);
          assert.equal(landed.searchParams.get('state'), checks.expectedState, `${name}: state echoed`);
          assert.equal(landed.searchParams.get('code'), null, `${name}: no code`);
        } else {
          assert.equal(landed.origin, issuer, `${name}: stays at Rathaus`);
          assert.ok(response.status() >= 400, `${name}: an error page, got HTTP ${response.status()}`);
          assert.equal(
            await page.getByLabel(UI.password, { exact: true }).count(),
            0,
            `${name}: refused before the login form`,
          );
        }
      } finally {
        await context.close();
      }
    }
  });

  test('RP-initiated logout ends the session; the next authorization asks for the password again', async () => {
    const { tokens, context } = await login({ scope: 'openid' });
    try {
      const page = await context.newPage();
      // With the session: no login form.
      let { url } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri });
      await page.goto(String(url));
      assert.notEqual(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login', 'session is active');

      const state = client.randomState();
      const logoutUrl = client.buildEndSessionUrl(spa, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: loopback.postLogoutRedirectUri,
        state,
      });
      const before = loopback.hits('/').length;
      await page.goto(String(logoutUrl));
      await page.waitForURL((u) => u.origin === loopback.origin && u.pathname === '/', { timeout: STEP_TIMEOUT_MS });
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('state'), state, 'state passed back to post_logout_redirect_uri');
      assert.equal(loopback.hits('/').length, before + 1, 'post-logout redirect arrived at the client');

      ({ url } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri }));
      await page.goto(String(url));
      assert.equal(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login', 'login form after logout');
    } finally {
      await context.close();
    }
  });

  test('logout does not redirect to an unregistered post_logout_redirect_uri', async () => {
    const { tokens, context } = await login({ scope: 'openid' });
    try {
      const page = await context.newPage();
      const logoutUrl = client.buildEndSessionUrl(spa, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: `${loopback.origin}/fremd`,
        state: 'x',
      });
      await page.goto(String(logoutUrl));
      await page.waitForLoadState('load');
      await page.waitForTimeout(500); // a late redirect would show up here
      assert.equal(new URL(page.url()).origin, issuer, 'the browser stays at Rathaus');
      assert.equal(loopback.hits('/fremd').length, 0, 'unregistered URI never requested');
    } finally {
      await context.close();
    }
  });
});
