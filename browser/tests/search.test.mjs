import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';

// Waits until the server's background search index answers.
async function searchReady(baseUrl) {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${baseUrl}/api/v1/services?q=Hund`);
    if (r.status === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('search index not ready');
}

describe('service search on /koeln/', () => {
  const ctx = useServerAndBrowser(async ({ server }) => {
    await searchReady(server.baseUrl);
  });

  test('typing fills the suggestion list; Enter shows the results', async () => {
    const page = await ctx.browser.newPage();
    try {
      await page.goto(ctx.server.baseUrl + '/koeln/');
      await page.getByLabel('Welche Leistung suchen Sie?').fill('Hund');
      await page.waitForFunction(() => document.querySelectorAll('#q-vorschlaege option').length > 0, null, { timeout: 5000 });
      const options = await page.$$eval('#q-vorschlaege option', (os) => os.map((o) => o.value));
      assert.ok(options.some((o) => o.startsWith('Hund')), JSON.stringify(options));
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/koeln\/suche\?q=Hund/);
      assert.ok(await page.getByRole('link', { name: 'Hundehaltung Anmeldung' }).count() > 0);
    } finally {
      await page.close();
    }
  });

  test('works without JavaScript', async () => {
    const context = await ctx.browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(ctx.server.baseUrl + '/koeln/');
      await page.getByLabel('Welche Leistung suchen Sie?').fill('Personalausweis');
      await page.getByRole('button', { name: 'Suchen' }).click();
      await page.waitForURL(/\/koeln\/suche\?q=Personalausweis/);
      assert.ok(await page.getByRole('link', { name: 'Personalausweis' }).count() > 0);
      assert.equal(await page.getByRole('navigation', { name: 'Treffer eingrenzen' }).count(), 1);
    } finally {
      await context.close();
    }
  });
});
