// Online forms in a real browser: the Hundesteuer-Anmeldung of Köln filled in step by step with
// the keyboard-reachable controls (labels, radio groups, upload), errors announced and linked,
// summary, binding submission and receipt — every page without axe-core violations (WCAG 2.1 AA).
// And a real FIM schema (Blaue Karte EU), imported through the API, shown with all steps on one
// page: every input has a visible label, every radio group a legend.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BLAUE_KARTE = path.resolve(HERE, '..', '..', '..', 'shared', 'testdata', 'xdatenfelder', 'v2', 'S00000121_Antrag_Blaue_Karte_EU.xdf2.xml');

async function expectNoViolations(page, what) {
  const violations = await checkA11y(page);
  assert.equal(violations.length, 0, `${what}:\n${formatViolations(violations)}`);
}

/** Every form control of the page has a visible label (radios and checkboxes: a legend). */
async function unlabelledControls(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('main input, main select, main textarea')) {
      if (el.type === 'hidden' || el.type === 'submit') continue;
      if (el.type === 'radio' || el.type === 'checkbox') {
        const legend = el.closest('fieldset')?.querySelector('legend');
        const own = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
        if (!legend?.textContent.trim() || !own?.textContent.trim()) bad.push(el.name);
        continue;
      }
      const label = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      const visible = label && label.getBoundingClientRect().width > 0;
      if (!label?.textContent.trim() || !visible) bad.push(el.name);
    }
    return bad;
  });
}

describe('Online forms (browser, axe-core)', () => {
  const ctx = useServerAndBrowser();

  test('Hundesteuer-Anmeldung in Köln from the first step to the receipt', async () => {
    const page = await ctx.browser.newPage();
    try {
      await page.goto(`${ctx.server.baseUrl}/koeln/formulare`);
      await expectNoViolations(page, '/koeln/formulare');
      await Promise.all([page.waitForURL(/\/koeln\/formulare\/[^/]+$/), page.getByRole('link', { name: /Hundesteuer/ }).click()]);
      await expectNoViolations(page, 'step 1');
      assert.deepEqual(await unlabelledControls(page), []);

      // Weiter without data: the error summary is an alert whose links lead to the fields.
      await page.getByRole('button', { name: 'Weiter', exact: true }).click();
      await page.getByRole('alert').waitFor();
      await expectNoViolations(page, 'step 1 with errors');
      await page.getByLabel('Vorname', { exact: true }).fill('Erika');
      await page.getByLabel('Familienname', { exact: true }).fill('Mustermann');
      await page.getByLabel('Geburtsdatum', { exact: true }).fill('1964-08-12');
      await page.getByLabel('Straße', { exact: true }).fill('Heidestraße');
      await page.getByLabel('Hausnummer', { exact: true }).fill('17');
      await page.getByLabel('Postleitzahl', { exact: true }).fill('51147');
      await page.getByLabel('Ort', { exact: true }).fill('Köln');
      await Promise.all([page.waitForURL(/schritt=2/), page.getByRole('button', { name: 'Weiter', exact: true }).click()]);

      await expectNoViolations(page, 'step 2');
      await page.getByLabel('Name des Hundes').fill('Bello');
      await page.getByLabel('Rasse').selectOption({ label: 'Labrador Retriever' });
      await page.getByLabel('Wurfdatum').fill('2021-04-01');
      await page.getByLabel('Transpondernummer').fill('276098106543210');
      // Conditions are progressively enhanced: the proof for dangerous dogs appears only for them.
      const proof = page.getByLabel('Nachweis Wesenstest');
      assert.equal(await proof.isVisible(), false, 'hidden until the condition is met');
      const kinds = page.getByRole('group', { name: 'Art des Hundes für die Steuer' });
      await kinds.getByLabel('Gefährlicher Hund (Listenhund)').check();
      await proof.waitFor({ state: 'visible' });
      assert.equal(await proof.isDisabled(), false);
      await kinds.getByRole('radio').first().check();
      await proof.waitFor({ state: 'hidden' });
      await page.getByLabel('Gehalten seit').fill('2024-06-01');
      await page.getByRole('group', { name: 'Steuerbefreiung beantragt' }).getByLabel('Nein').check();
      await page.getByLabel('Nachweis Haftpflichtversicherung').setInputFiles({
        name: 'haftpflicht.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'),
      });
      await Promise.all([page.waitForURL(/schritt=3/), page.getByRole('button', { name: 'Weiter', exact: true }).click()]);

      await expectNoViolations(page, 'step 3');
      await page.getByRole('group', { name: 'Richtigkeit der Angaben' }).getByLabel('Ja').check();
      await Promise.all([page.waitForURL(/\/pruefen$/), page.getByRole('button', { name: 'Weiter', exact: true }).click()]);

      await expectNoViolations(page, 'summary');
      assert.match(await page.locator('main').innerText(), /Bello[\s\S]*haftpflicht\.pdf/);
      // The dog tax under Köln's rates.
      const tax = page.getByRole('table', { name: /Jahresbetrag nach der Hundesteuersatzung/ });
      assert.match(await tax.innerText(), /Bello[\s\S]*Ersthund[\s\S]*\d+,\d\d €/);
      await Promise.all([page.waitForURL(/\/eingang\//), page.getByRole('button', { name: 'Verbindlich absenden' }).click()]);
      await page.getByRole('heading', { name: 'Eingangsbestätigung' }).waitFor();
      assert.match(await page.getByRole('status').innerText(), /A-\d{8}-[0-9A-Z]{6}/);
      await expectNoViolations(page, 'receipt');
    } finally {
      await page.close();
    }
  });

  test('an imported FIM schema (Blaue Karte EU): all steps on one page, every input labelled', async () => {
    const base = ctx.server.baseUrl;
    const tokenRes = await fetch(`${base}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('demo-backoffice:demo-secret').toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    assert.equal(tokenRes.status, 200);
    const { access_token: token } = await tokenRes.json();
    const imported = await fetch(`${base}/api/v1/tenants/koeln/forms/import-fim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: await readFile(BLAUE_KARTE),
    });
    assert.equal(imported.status, 201, await imported.clone().text());
    const { url, fields } = await imported.json();
    assert.ok(fields > 50);

    const page = await ctx.browser.newPage();
    try {
      await page.goto(`${base}${url}?ansicht=alle`);
      assert.deepEqual(await unlabelledControls(page), [], 'controls without a visible label');
      await expectNoViolations(page, `${url}?ansicht=alle`);
      await page.goto(`${base}${url}`);
      await expectNoViolations(page, `${url} (step 1)`);
    } finally {
      await page.close();
    }
  });
});
