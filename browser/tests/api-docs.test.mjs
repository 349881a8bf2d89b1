import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launchBrowser } from '../lib/browser.mjs';

const PATH = '/api/docs';

describe(`${PATH} (Swagger UI)`, () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('loads and renders offline', async (t) => {
    const page = await browser.newPage();
    const allowedHosts = new Set(['127.0.0.1', new URL(server.baseUrl).hostname]);
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
      const response = await page.goto(server.baseUrl + PATH);
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
