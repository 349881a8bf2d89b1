// Pages behind the Servicekonto login: the account overview and second-factor set-up of the demo
// citizen, and the back office of Köln for its demo clerk. Each must have no axe violations and be
// usable with the keyboard-reachable forms it shows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';
import { DEMO, submitLogin } from '../lib/oidc.mjs';

const CLERK = { email: 'sachbearbeitung.koeln@example.org', password: 'Demo-Passwort-1' };
const EDITOR = { email: 'redaktion.koeln@example.org', password: 'Demo-Passwort-1' };

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

  test('invoice desk of Köln: list, Leitweg-IDs, upload page and the page for a too large file', async () => {
    const page = await loggedIn(ctx, CLERK, '/koeln/verwaltung/rechnungen');
    try {
      await expectNoViolations(page, '/koeln/verwaltung/rechnungen');
      await Promise.all([page.waitForURL(/leitweg-ids$/), page.getByRole('link', { name: 'Leitweg-IDs dieser Verwaltung' }).click()]);
      assert.match(await page.locator('main').innerText(), /04011000-12350-85\s+Amt für Schulentwicklung/);
      await expectNoViolations(page, '/koeln/verwaltung/rechnungen/leitweg-ids');
      await page.goto(`${ctx.server.baseUrl}/koeln/verwaltung/rechnungen/hochladen`);
      await expectNoViolations(page, '/koeln/verwaltung/rechnungen/hochladen');
      // A file over einvoice.max_bytes (20 MB), sent by the browser as a whole: the 413 page.
      await page.getByLabel('XML-Datei der Rechnung').setInputFiles({
        name: 'gross.xml', mimeType: 'application/xml', buffer: Buffer.alloc(21 * 1024 * 1024, 'x'),
      });
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Prüfen und empfangen' }).click(),
      ]);
      assert.equal(answer.status(), 413);
      await page.getByRole('heading', { name: 'Rechnung zu groß' }).waitFor();
      assert.match(await page.locator('main').innerText(), /erlaubten 20 MB/);
      await expectNoViolations(page, 'upload of a too large invoice');
    } finally {
      await page.close();
    }
  });

  test('form builder of Köln (Redaktion): list, editor, a field with a condition, preview, publish', async () => {
    const page = await loggedIn(ctx, EDITOR, '/koeln/verwaltung/formulare');
    /** Clicks a submit button and waits for the page it leads to. */
    const submit = async (name) => {
      const before = page.url();
      await Promise.all([page.waitForURL((u) => u.href !== before), page.getByRole('button', { name, exact: true }).click()]);
    };
    try {
      await expectNoViolations(page, '/koeln/verwaltung/formulare');
      await page.getByLabel('Titel des Formulars').fill('Sondernutzung Straßenfest');
      await submit('Neues Formular anlegen');
      assert.match(page.url(), /meldung=angelegt/);
      await expectNoViolations(page, 'editor of a new form');
      // A yes/no field, and a text field shown only when it is "ja".
      await page.getByLabel('Art', { exact: true }).selectOption({ label: 'Ja/Nein' });
      await page.getByLabel('Bezeichnung', { exact: true }).fill('Mit Ausschank');
      await submit('Hinzufügen');
      await expectNoViolations(page, 'editor after adding a field');
      await page.getByLabel('Art', { exact: true }).selectOption({ label: 'Text (einzeilig)' });
      await page.getByLabel('Bezeichnung', { exact: true }).fill('Art der Getränke');
      await submit('Hinzufügen');
      assert.match(page.url(), /element=/);
      await expectNoViolations(page, 'element editor');
      const condition = page.getByLabel('Feld derselben Ebene');
      await condition.selectOption(await condition.locator('option', { hasText: 'Mit Ausschank' }).getAttribute('value'));
      await page.getByLabel('… diesen Wert hat').fill('ja');
      await submit('Element speichern');
      // An invalid edit is shown with its error and the input kept.
      await page.getByLabel('Bezeichnung (wie sie Bürgerinnen und Bürger sehen)').fill('');
      await submit('Element speichern');
      await page.getByRole('alert').first().waitFor();
      await expectNoViolations(page, 'element editor with an error');
      const editor = page.url().replace(/[?#].*$/, '');
      await page.goto(`${editor}/vorschau`);
      assert.match(await page.locator('main').innerText(), /Nur auszufüllen, wenn „Mit Ausschank“ = „Ja“/);
      await expectNoViolations(page, 'preview');
      await page.goto(editor);
      await submit('Veröffentlichen');
      assert.match(page.url(), /meldung=veroeffentlicht/);
      await expectNoViolations(page, 'editor after publishing');
    } finally {
      await page.close();
    }
  });

  test('offers of Köln (Redaktion): list, editor with an error, publish, the public service page', async () => {
    const page = await loggedIn(ctx, EDITOR, '/koeln/verwaltung/leistungen');
    const submit = async (name) => {
      const before = page.url();
      await Promise.all([page.waitForURL((u) => u.href !== before), page.getByRole('button', { name, exact: true }).click()]);
    };
    try {
      await expectNoViolations(page, '/koeln/verwaltung/leistungen');
      await page.goto(`${ctx.server.baseUrl}/koeln/verwaltung/leistungen/2939`);
      await expectNoViolations(page, 'offer editor');
      await page.getByLabel('Name der Organisationseinheit').fill('Bürgeramt Innenstadt');
      await page.getByLabel('Postleitzahl').fill('5067');
      // The page answers the post at its own address (422), so wait for the answer, not a new URL.
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 422),
        page.getByRole('button', { name: 'Entwurf speichern', exact: true }).click(),
      ]);
      await page.getByRole('alert').first().waitFor();
      assert.equal(await page.getByLabel('Postleitzahl').inputValue(), '5067', 'input kept');
      await expectNoViolations(page, 'offer editor with an error');
      await page.getByLabel('Postleitzahl').fill('50667');
      await page.getByLabel('Öffnungszeiten').fill('Mo–Fr 8–12 Uhr');
      await submit('Entwurf speichern');
      await expectNoViolations(page, 'offer editor with a draft');
      await submit('Entwurf veröffentlichen');
      await page.goto(`${ctx.server.baseUrl}/koeln/leistungen/2939`);
      assert.match(await page.locator('main').innerText(), /Bürgeramt Innenstadt[\s\S]*Mo–Fr 8–12 Uhr/);
      await expectNoViolations(page, 'service page with the published variant');
    } finally {
      await page.close();
    }
  });
});
