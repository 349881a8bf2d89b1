// Pages behind the Servicekonto login: the account overview and second-factor set-up of the demo
// citizen, and the back office of Köln for its demo clerk. Each must have no axe violations and be
// usable with the keyboard-reachable forms it shows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';
import { DEMO, submitLogin } from '../lib/oidc.mjs';

const CLERK = { email: 'sachbearbeitung.koeln@example.org', password: 'Demo-Passwort-1' };

async function loggedIn(ctx, who, path) {
  const page = await ctx.browser.newPage();
  await page.goto(`${ctx.server.baseUrl}/anmelden?weiter=${encodeURIComponent(path)}`);
  await Promise.all([page.waitForURL((u) => u.pathname === path), submitLogin(page, who)]);
  return page;
}

async function expectNoViolations(page, what) {
  const violations = await checkA11y(page);
  assert.equal(violations.length, 0, `${what}:\n${formatViolations(violations)}`);
}

describe('Pages behind the login (axe-core)', () => {
  const ctx = useServerAndBrowser();

  test('account overview and TOTP set-up of the demo citizen', async () => {
    const page = await loggedIn(ctx, DEMO, '/konto');
    try {
      await assert.doesNotReject(page.getByRole('heading', { name: 'Mein Servicekonto' }).waitFor());
      await expectNoViolations(page, '/konto');
      await page.goto(`${ctx.server.baseUrl}/konto/zwei-faktor`);
      await expectNoViolations(page, '/konto/zwei-faktor');
      await page.goto(`${ctx.server.baseUrl}/konto/loeschen`);
      await expectNoViolations(page, '/konto/loeschen');
      await page.goto(`${ctx.server.baseUrl}/konto`);
      await Promise.all([page.waitForURL(/\/konto\/organisation\//), page.getByRole('link', { name: 'Musterfirma GmbH' }).click()]);
      await assert.doesNotReject(page.getByRole('heading', { name: 'Mitglied hinzufügen' }).waitFor());
      await expectNoViolations(page, 'organisation page (admin)');
    } finally {
      await page.close();
    }
  });

  test('back office of Köln: the clerk records a Prozessinventur entry', async () => {
    const page = await loggedIn(ctx, CLERK, '/koeln/verwaltung');
    try {
      await expectNoViolations(page, '/koeln/verwaltung');
      await page.getByLabel('Leistungs-Nr.').fill('2939');
      await page.getByLabel('Fälle pro Jahr').fill('800');
      await page.getByLabel('Minuten pro Fall').fill('15');
      await page.getByLabel('Bearbeitende Stelle').fill('Bürgeramt');
      await Promise.all([page.waitForURL(/gespeichert=2939/), page.getByRole('button', { name: 'Speichern' }).click()]);
      const row = page.getByRole('row').filter({ hasText: 'Bürgeramt' });
      assert.match(await row.innerText(), /200\.0/, '800 cases × 15 minutes = 200 hours');
      await expectNoViolations(page, '/koeln/verwaltung after saving');
      // An invalid entry is shown with its error and the entered value kept.
      await page.getByLabel('Fälle pro Jahr').fill('viele');
      await page.getByRole('button', { name: 'Speichern' }).click();
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByLabel('Fälle pro Jahr').inputValue(), 'viele');
      await expectNoViolations(page, '/koeln/verwaltung with an error');
    } finally {
      await page.close();
    }
  });
});
