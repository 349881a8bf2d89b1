import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';

const PATH = '/koeln/barrierefreiheit';
const LABEL_DESCRIPTION = 'Beschreibung der Barriere';
const LABEL_EMAIL = 'E-Mail-Adresse (optional)';
const SUBMIT = 'Meldung absenden';
const ERROR_TEXT = 'Bitte beschreiben Sie die Barriere';

describe(`feedback form on ${PATH}`, () => {
  const ctx = useServerAndBrowser();

  test('a report is accepted and thanked for', async () => {
    const page = await ctx.browser.newPage();
    try {
      const response = await page.goto(ctx.server.baseUrl + PATH);
      assert.equal(response.status(), 200);

      const description = page.getByLabel(LABEL_DESCRIPTION);
      assert.equal(await description.evaluate((el) => el.tagName.toLowerCase()), 'textarea');
      await description.fill('Der Kontrast der Links im Fußbereich ist zu gering.');
      await page.getByLabel(LABEL_EMAIL).fill('melderin@example.org');
      await page.getByRole('button', { name: SUBMIT }).click();

      await page.getByText('Vielen Dank').first().waitFor({ timeout: 10_000 });
      await page.waitForLoadState('load');
      const violations = await checkA11y(page);
      assert.equal(violations.length, 0, `confirmation page:\n${formatViolations(violations)}`);
    } finally {
      await page.close();
    }
  });

  test('an empty description shows the form again with an error', async () => {
    const page = await ctx.browser.newPage();
    try {
      await page.goto(ctx.server.baseUrl + PATH);
      // Exercise the server-side check: switch off the browser's own
      // validation (e.g. a `required` attribute) for this submission.
      await page.getByLabel(LABEL_DESCRIPTION).evaluate((el) => {
        if (el.form) el.form.noValidate = true;
      });
      await page.getByLabel(LABEL_DESCRIPTION).fill('');
      await page.getByRole('button', { name: SUBMIT }).click();

      const error = page
        .locator('[role="alert"], .fehler')
        .filter({ hasText: ERROR_TEXT })
        .first();
      await error.waitFor({ timeout: 10_000 });
      await page.waitForLoadState('load');

      // The form is there again, ready to be corrected.
      assert.equal(await page.getByLabel(LABEL_DESCRIPTION).count(), 1, 'description field shown again');
      assert.equal(await page.getByRole('button', { name: SUBMIT }).count(), 1, 'submit button shown again');
      assert.equal(await page.getByText('Vielen Dank').count(), 0, 'no thank-you for an empty report');

      const violations = await checkA11y(page);
      assert.equal(violations.length, 0, `form with error:\n${formatViolations(violations)}`);
    } finally {
      await page.close();
    }
  });
});
