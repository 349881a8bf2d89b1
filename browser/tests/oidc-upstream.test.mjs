// Login at Rathaus through an upstream identity provider (the BundID role): the npm package
// oidc-provider runs in-process as an independent upstream, Rathaus is started with the
// RATHAUS_IDENTITY__UPSTREAM__* variables pointing at it, and Chromium goes
// Rathaus login page → "Mit BundID anmelden" → upstream login → back → consent → client.
// Rathaus's own ID token must carry the eIDAS level mapped from the upstream `acr`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, checkA11y, formatViolations } from '../lib/browser.mjs';
import {
  DEMO,
  LOA,
  STEP_TIMEOUT_MS,
  client,
  authorizationRequest,
  codeFlow,
  oidcConfig,
  requireDiscovery,
  startLoopbackClient,
  waitForStep,
} from '../lib/oidc.mjs';
import { startUpstream, UPSTREAM_UI } from '../lib/oidc-upstream.mjs';

const UPSTREAM_CLIENT_ID = 'rathaus-servicekonto';
const UPSTREAM_CLIENT_SECRET = 'upstream-secret-for-rathaus';
const UPSTREAM_BUTTON = 'Mit BundID anmelden'; // default RATHAUS_IDENTITY__UPSTREAM__NAME
const RETURN_PATH = '/anmelden/extern/rueckkehr';

/** upstream acr → the level Rathaus must put into its own ID token (contract table). */
const ACR_MAPPING = [
  ['STORK-QAA-Level-1', LOA.low],
  ['STORK-QAA-Level-2', LOA.low],
  ['http://eidas.europa.eu/LoA/low', LOA.low],
  ['STORK-QAA-Level-3', LOA.substantial],
  ['http://eidas.europa.eu/LoA/substantial', LOA.substantial],
  ['STORK-QAA-Level-4', LOA.high],
  ['http://eidas.europa.eu/LoA/high', LOA.high],
  [undefined, LOA.low], // no acr from the upstream
];

const ownServer = !process.env.RATHAUS_BASE_URL;

describe(
  'Servicekonto: login through an upstream OpenID provider (oidc-provider as BundID)',
  { skip: ownServer ? false : 'needs its own Rathaus server with upstream settings; unset RATHAUS_BASE_URL' },
  () => {
    let upstream;
    let server;
    let browser;
    let loopback;
    let spa;
    let issuer;

    before(async () => {
      upstream = await startUpstream();
      server = await startServer({
        env: {
          RATHAUS_IDENTITY__UPSTREAM__ISSUER: upstream.issuer,
          RATHAUS_IDENTITY__UPSTREAM__CLIENT_ID: UPSTREAM_CLIENT_ID,
          RATHAUS_IDENTITY__UPSTREAM__CLIENT_SECRET: UPSTREAM_CLIENT_SECRET,
        },
      });
      issuer = server.baseUrl;
      await upstream.registerClient({
        clientId: UPSTREAM_CLIENT_ID,
        clientSecret: UPSTREAM_CLIENT_SECRET,
        redirectUri: `${issuer}${RETURN_PATH}`,
      });
      browser = await launchBrowser();
      loopback = await startLoopbackClient();
      await requireDiscovery(issuer); // fails clearly without an OIDC provider
      spa = await oidcConfig(issuer, DEMO.spa);
    });
    after(async () => {
      await browser?.close();
      await server?.stop();
      await loopback?.close();
      await upstream?.close();
    });

    /** Login hook for authorizeInBrowser: the upstream button, then the upstream form. */
    const upstreamLogin = (username, acr, checks = {}) => async (page) => {
      const button = page
        .getByRole('button', { name: UPSTREAM_BUTTON, exact: true })
        .or(page.getByRole('link', { name: UPSTREAM_BUTTON, exact: true }));
      assert.equal(await button.count(), 1, `one "${UPSTREAM_BUTTON}" control on the Rathaus login page`);
      if (checks.a11y) {
        const violations = await checkA11y(page);
        assert.equal(violations.length, 0, `login page with upstream button:\n${formatViolations(violations)}`);
      }
      await Promise.all([
        page.waitForURL((u) => u.origin === upstream.issuer, { timeout: STEP_TIMEOUT_MS }),
        button.click(),
      ]);
      await page.getByLabel(UPSTREAM_UI.username, { exact: true }).fill(username);
      await page.getByLabel(UPSTREAM_UI.level).selectOption(acr ?? '');
      await Promise.all([
        page.waitForURL((u) => u.origin !== upstream.issuer, { timeout: STEP_TIMEOUT_MS }),
        page.getByRole('button', { name: UPSTREAM_UI.submit, exact: true }).click(),
      ]);
      // back at Rathaus (or already at the client, when Rathaus needs no consent)
      assert.ok([issuer, loopback.origin].includes(new URL(page.url()).origin), `back from the upstream: ${page.url()}`);
    };

    test('"Mit BundID anmelden" → upstream login (STORK-QAA-Level-3) → Rathaus ID token with acr substantial', async () => {
      const nAuth = upstream.authorizationRequests.length;
      const nToken = upstream.tokenRequests.length;
      const { tokens, claims, context, steps } = await codeFlow({
        browser,
        config: spa,
        loopback,
        scope: 'openid profile email',
        login: upstreamLogin('max.upstream', 'STORK-QAA-Level-3', { a11y: true }),
      });
      await context.close();
      assert.ok(steps.includes('login'), `Rathaus login page shown first (steps: ${steps.join(' → ')})`);
      assert.equal(claims.acr, LOA.substantial, 'STORK-QAA-Level-3 → substantial');
      assert.equal(claims.iss, issuer);

      const userinfo = await client.fetchUserInfo(spa, tokens.access_token, claims.sub);
      assert.equal(userinfo.email, 'max.upstream@example.org', 'account created from the upstream e-mail');

      // How Rathaus talked to the upstream (contract: code flow, PKCE, state, nonce, basic auth).
      const auth = upstream.authorizationRequests.slice(nAuth);
      assert.equal(auth.length, 1, 'one authorization request at the upstream');
      const a = auth[0];
      assert.equal(a.get('client_id'), UPSTREAM_CLIENT_ID);
      assert.equal(a.get('response_type'), 'code');
      assert.equal(a.get('redirect_uri'), `${issuer}${RETURN_PATH}`);
      for (const s of ['openid', 'profile', 'email']) {
        assert.ok((a.get('scope') ?? '').split(' ').includes(s), `scope ${s} requested upstream`);
      }
      assert.equal(a.get('code_challenge_method'), 'S256', 'PKCE S256 upstream');
      assert.ok((a.get('code_challenge') ?? '').length >= 43, 'code_challenge');
      assert.ok((a.get('state') ?? '').length >= 16, 'unguessable state upstream');
      assert.ok((a.get('nonce') ?? '').length >= 16, 'unguessable nonce upstream');

      const token = upstream.tokenRequests.slice(nToken);
      assert.equal(token.length, 1, 'one token request at the upstream');
      assert.match(token[0].authorization ?? '', /^Basic /i, 'client_secret_basic');
      assert.equal(token[0].params.get('grant_type'), 'authorization_code');
      assert.ok(token[0].params.get('code_verifier'), 'code_verifier sent');
      assert.equal(token[0].params.get('client_secret'), null, 'secret not in the body');
    });

    for (const [upstreamAcr, expected] of ACR_MAPPING) {
      test(`upstream acr ${upstreamAcr ?? '(none)'} → ${expected}`, async () => {
        const { claims, context } = await codeFlow({
          browser,
          config: spa,
          loopback,
          scope: 'openid',
          login: upstreamLogin('max.upstream', upstreamAcr),
        });
        await context.close();
        assert.equal(claims.acr, expected);
      });
    }

    test('an upstream login with the verified e-mail of an existing citizen links to her account', async () => {
      const password = await codeFlow({ browser, config: spa, loopback, scope: 'openid' });
      await password.context.close();
      assert.equal(password.claims.acr, LOA.low);

      const viaUpstream = await codeFlow({
        browser,
        config: spa,
        loopback,
        scope: 'openid email',
        login: upstreamLogin('erika.bund', 'http://eidas.europa.eu/LoA/high'),
      });
      await viaUpstream.context.close();
      assert.equal(viaUpstream.claims.sub, password.claims.sub, 'same Rathaus account (sub)');
      assert.equal(viaUpstream.claims.acr, LOA.high, 'acr of this login, not of the account');
    });

    test('the return endpoint refuses a response with a forged state', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const { url } = await authorizationRequest(spa, { redirectUri: loopback.redirectUri });
        await page.goto(String(url));
        assert.equal(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login');
        const nCallbacks = loopback.hits('/callback').length;
        const nToken = upstream.tokenRequests.length;
        await page.goto(`${issuer}${RETURN_PATH}?code=forged&state=forged&iss=${encodeURIComponent(upstream.issuer)}`);
        await page.waitForLoadState('load');
        assert.equal(new URL(page.url()).origin, issuer, 'stays at Rathaus');
        assert.equal(loopback.hits('/callback').length, nCallbacks, 'nothing sent to the client');
        assert.equal(upstream.tokenRequests.length, nToken, 'the forged code is never redeemed upstream');
        // and no session came of it
        await page.goto(String(url));
        assert.equal(await waitForStep(page, { callbackOrigin: loopback.origin }), 'login', 'still logged out');
      } finally {
        await context.close();
      }
    });
  },
);
