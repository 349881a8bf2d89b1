import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';
import { checkA11y, formatViolations } from '../lib/browser.mjs';
import { a11yPages } from '../lib/pages.mjs';

describe('WCAG 2.1 AA (axe-core)', () => {
  const ctx = useServerAndBrowser();

  for (const { path, status } of a11yPages()) {
    test(`${path} has no axe violations`, async () => {
      const page = await ctx.browser.newPage();
      try {
        const response = await page.goto(ctx.server.baseUrl + path, { waitUntil: 'load' });
        assert.ok(response, `no response for ${path}`);
        assert.equal(response.status(), status, `HTTP status of ${path}`);
        const violations = await checkA11y(page);
        assert.equal(violations.length, 0, `${path}:\n${formatViolations(violations)}`);
      } finally {
        await page.close();
      }
    });
  }
});
