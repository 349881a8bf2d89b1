// Passkeys (WebAuthn) in the Servicekonto with a real browser: Chromium's virtual authenticator
// (DevTools protocol) registers a passkey on /konto, the passkey raises a password session for
// an authorization that demands the eIDAS level substantial (step-up), and after logging out the
// login asks for it after the password. openid-client checks the ID tokens: `acr` substantial,
// `amr` with `hwk`. Every page of the ceremony passes axe (WCAG 2.1 AA).
//
// Browsers refuse IP addresses as WebAuthn relying-party ids, so this suite reaches the server
// as http://localhost:PORT, which is also its issuer: a small TCP relay listens on PORT (known
// before the server starts, so RATHAUS_IDENTITY__ISSUER can name it) and forwards to the server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer } from '../lib/server.mjs';
import { launchBrowser, checkA11y, formatViolations } from '../lib/browser.mjs';
import {
  DEMO,
  LOA,
  UI,
  STEP_TIMEOUT_MS,
  client,
  authorizationRequest,
  oidcConfig,
  requireDiscovery,
  startLoopbackClient,
  submitLogin,
  waitForStep,
} from '../lib/oidc.mjs';

const PASSKEY_BUTTON = 'Mit Passkey bestätigen';

/** A TCP relay on localhost and a free port; `target` is set once the server runs. */
async function startRelay() {
  const relay = { target: undefined, sockets: new Set() };
  const server = net.createServer((socket) => {
    relay.sockets.add(socket);
    socket.on('close', () => relay.sockets.delete(socket));
    const upstream = net.connect(relay.target.port, relay.target.hostname);
    relay.sockets.add(upstream);
    upstream.on('close', () => relay.sockets.delete(upstream));
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  relay.port = server.address().port;
  relay.close = () =>
    new Promise((resolve) => {
      for (const s of relay.sockets) s.destroy();
      server.close(() => resolve());
    });
  return relay;
}

async function assertNoAxeViolations(page, what) {
  const violations = await checkA11y(page);
  assert.equal(violations.length, 0, `${what} (${page.url()}):\n${formatViolations(violations)}`);
}

describe('Servicekonto: passkeys (WebAuthn, virtual authenticator in Chromium)', () => {
  let relay;
  let server;
  let browser;
  let issuer;
  let loopback;
  /** @type {client.Configuration} */ let spa;
  let context;
  let page;
  let cdp;
  let authenticatorId;

  before(async () => {
    if (process.env.RATHAUS_BASE_URL) {
      throw new Error('passkey.test.mjs starts its own server (issuer on localhost); unset RATHAUS_BASE_URL');
    }
    relay = await startRelay();
    issuer = `http://localhost:${relay.port}`;
    server = await startServer({ env: { RATHAUS_IDENTITY__ISSUER: issuer } });
    relay.target = new URL(server.baseUrl);
    browser = await launchBrowser();
    loopback = await startLoopbackClient();
    const discovery = await requireDiscovery(issuer);
    assert.equal(discovery.issuer, issuer, 'the server runs with the localhost issuer');
    spa = await oidcConfig(issuer, DEMO.spa);
    context = await browser.newContext();
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    }));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await loopback?.close();
    await relay?.close();
  });

  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  /** Clicks the passkey button of the second-factor page and waits for the form's submission. */
  async function confirmWithPasskey() {
    const button = page.getByRole('button', { name: PASSKEY_BUTTON, exact: true });
    await button.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    // The script fetches the options, the authenticator signs, the script submits the form.
    await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), button.click()]);
  }

  /** Runs an authorization demanding level substantial in `page`; `secondFactor` handles the login. */
  async function authorizeSubstantial(secondFactor) {
    const { url, checks } = await authorizationRequest(spa, {
      redirectUri: loopback.redirectUri,
      scope: 'openid email',
      params: { acr_values: LOA.substantial },
    });
    await page.goto(String(url));
    await secondFactor();
    for (let i = 0; i < 3; i++) {
      const step = await waitForStep(page, { callbackOrigin: loopback.origin });
      if (step === 'callback') break;
      assert.equal(step, 'consent', `unexpected ${step} page at ${page.url()}`);
      await Promise.all([
        page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }),
        page.getByRole('button', { name: UI.consent, exact: true }).click(),
      ]);
    }
    const tokens = await client.authorizationCodeGrant(spa, new URL(page.url()), checks);
    return tokens.claims();
  }

  test('a logged-in citizen registers a passkey on /konto', async () => {
    await page.goto(`${issuer}/konto`);
    await submitLogin(page);
    await page.waitForURL(`${issuer}/konto`, { timeout: STEP_TIMEOUT_MS });
    await assertNoAxeViolations(page, 'account page with the passkey form');
    await page.getByLabel('Bezeichnung des neuen Passkeys (z. B. „Laptop“)').fill('Testlaptop');
    await Promise.all([
      page.waitForURL(/\/konto\?hinweis=passkey$/, { timeout: STEP_TIMEOUT_MS }),
      page.getByRole('button', { name: 'Passkey hinzufügen', exact: true }).click(),
    ]);
    await assert.doesNotReject(
      page.getByText('Der Passkey ist eingerichtet.', { exact: false }).waitFor({ timeout: 5000 }),
    );
    const row = page.getByRole('row').filter({ hasText: 'Testlaptop' });
    assert.equal(await row.count(), 1, 'the new passkey is listed');
    assert.match(await row.innerText(), /noch nie/, 'not used yet');
    const creds = await credentials();
    assert.equal(creds.length, 1, 'the authenticator holds one credential');
    assert.equal(creds[0].rpId, 'localhost');
    await assertNoAxeViolations(page, 'account page with a passkey');
  });

  test('the passkey raises the password session for acr_values=substantial (step-up)', async () => {
    const claims = await authorizeSubstantial(async () => {
      // The session is at level low: the server asks for the second factor, not the password.
      await page.getByRole('button', { name: PASSKEY_BUTTON, exact: true }).waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await page.getByLabel(UI.password, { exact: true }).count(), 0, 'no password form');
      await assertNoAxeViolations(page, 'second-factor page (step-up)');
      await confirmWithPasskey();
    });
    assert.equal(claims.acr, LOA.substantial);
    assert.deepEqual(claims.amr, ['pwd', 'hwk']);
    assert.equal(claims.email, DEMO.email);
  });

  test('after logout, the login asks for the passkey after the password', async () => {
    await page.goto(`${issuer}/konto`);
    await Promise.all([
      page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }),
      page.getByRole('button', { name: 'Abmelden', exact: true }).click(),
    ]);
    await page.getByText('Sie sind abgemeldet').waitFor({ timeout: STEP_TIMEOUT_MS });
    const signCount = (await credentials())[0].signCount;
    const claims = await authorizeSubstantial(async () => {
      await page.getByLabel(UI.password, { exact: true }).waitFor({ timeout: STEP_TIMEOUT_MS });
      await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), submitLogin(page)]);
      await page.getByRole('button', { name: PASSKEY_BUTTON, exact: true }).waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await page.getByLabel('Code', { exact: true }).count(), 0, 'no TOTP field: Erika has no TOTP');
      await assertNoAxeViolations(page, 'second-factor page after the password');
      await confirmWithPasskey();
    });
    assert.equal(claims.acr, LOA.substantial, 'password + passkey is level substantial');
    assert.ok(claims.amr.includes('hwk'), `amr ${JSON.stringify(claims.amr)} names the hardware key`);
    assert.ok(claims.amr.includes('pwd'));
    assert.ok((await credentials())[0].signCount > signCount, 'the authenticator signed again');
  });

  test('the account page shows the use, and the passkey can be removed in this session', async () => {
    await page.goto(`${issuer}/konto`);
    const row = page.getByRole('row').filter({ hasText: 'Testlaptop' });
    assert.doesNotMatch(await row.innerText(), /noch nie/, 'last use recorded');
    await Promise.all([
      page.waitForURL(/hinweis=passkey-entfernt/, { timeout: STEP_TIMEOUT_MS }),
      page.getByRole('button', { name: 'Passkey „Testlaptop“ entfernen', exact: true }).click(),
    ]);
    assert.equal(await page.getByRole('row').filter({ hasText: 'Testlaptop' }).count(), 0);
    assert.ok(await page.getByText('Sie haben noch keinen Passkey eingerichtet.').isVisible());
  });
});
