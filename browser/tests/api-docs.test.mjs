import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';

const PATH = '/api/docs';

describe(`${PATH} (Swagger UI)`, () => {
  const ctx = useServerAndBrowser();

  test('loads and renders offline', async (t) => {
    const page = await ctx.browser.newPage();
    const allowedHosts = new Set(['127.0.0.1', new URL(ctx.server.baseUrl).hostname]);
    const aborted = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      const local = ['data:', 'blob:'].includes(url.protocol) || allowedHosts.has(url.hostname);
      if (local) return route.continue();
      aborted.push(url.href);
      return route.abort('internetdisconnected');
    });
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Console errors include Content-Security-Policy violations.
    const consoleErrors = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    try {
      const response = await page.goto(ctx.server.baseUrl + PATH);
      assert.equal(response.status(), 200, `HTTP status of ${PATH}`);
      try {
        await page.waitForSelector('.swagger-ui .opblock', { timeout: 15_000 });
      } catch (err) {
        throw new Error(
          `Swagger UI did not render an operation within 15 s.\n` +
            `external requests aborted: ${JSON.stringify(aborted)}\n` +
            `page errors: ${JSON.stringify(pageErrors)}\n` +
            `console errors: ${JSON.stringify(consoleErrors)}\n${err.message}`,
        );
      }
      if (aborted.length) t.diagnostic(`external requests aborted: ${aborted.join(', ')}`);
      for (const e of consoleErrors) t.diagnostic(`console error: ${e}`);
    } finally {
      await page.close();
    }
  });
});
