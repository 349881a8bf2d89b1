import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useServerAndBrowser } from '../lib/suite.mjs';

const PATH = '/koeln/';

describe(`keyboard and landmarks on ${PATH}`, () => {
  const ctx = useServerAndBrowser();

  test('first Tab focuses the skip link, Enter jumps to #inhalt', async () => {
    const page = await ctx.browser.newPage();
    try {
      const response = await page.goto(ctx.server.baseUrl + PATH);
      assert.equal(response.status(), 200);

      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        return {
          tag: el?.tagName.toLowerCase(),
          text: el?.textContent.trim(),
          href: el?.getAttribute('href'),
        };
      });
      assert.equal(focused.tag, 'a', `first Tab should focus a link, got ${JSON.stringify(focused)}`);
      assert.match(focused.text, /Zum Inhalt/, 'skip link text');
      assert.equal(focused.href, '#inhalt', 'skip link href');

      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#inhalt', null, { timeout: 5000 });
      const jumped = await page.evaluate(() => {
        const target = document.getElementById('inhalt');
        const active = document.activeElement;
        return {
          hash: location.hash,
          targetExists: !!target,
          inMain: !!target?.closest('main'),
          // focus is on the target or inside it (a focusable target gets
          // focus; a non-focusable one moves the sequential focus start point)
          focusInTarget: !!target && (active === target || target.contains(active)),
        };
      });
      assert.equal(jumped.hash, '#inhalt');
      assert.ok(jumped.targetExists, 'an element with id="inhalt" exists');
      assert.ok(jumped.inMain, '#inhalt is <main> or inside it');
      // After the jump, keyboard focus continues from #inhalt: either the
      // target itself got focus, or the next Tab lands on an element that
      // follows it in the document (not back in the header).
      if (!jumped.focusInTarget) {
        await page.keyboard.press('Tab');
        const next = await page.evaluate(() => {
          const target = document.getElementById('inhalt');
          const active = document.activeElement;
          return {
            what: active ? active.outerHTML.slice(0, 120) : null,
            ok:
              !!active &&
              active !== document.body &&
              (target.contains(active) ||
                !!(target.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING)),
          };
        });
        assert.ok(next.ok, `after the skip link, Tab should continue after #inhalt, focused: ${next.what}`);
      }
    } finally {
      await page.close();
    }
  });

  test('lang, landmarks and navigation', async () => {
    const page = await ctx.browser.newPage();
    try {
      await page.goto(ctx.server.baseUrl + PATH);
      const info = await page.evaluate(() => {
        // header/footer are banner/contentinfo only when not inside
        // article/aside/main/nav/section
        const sectioning = 'article, aside, main, nav, section';
        const top = (sel) => [...document.querySelectorAll(sel)].filter((e) => !e.parentElement.closest(sectioning));
        return {
          lang: document.documentElement.getAttribute('lang'),
          mains: document.querySelectorAll('main').length,
          banners: top('header').length + document.querySelectorAll('[role="banner"]').length,
          contentinfos: top('footer').length + document.querySelectorAll('[role="contentinfo"]').length,
          navLabels: [...document.querySelectorAll('nav')].map(
            (n) => n.getAttribute('aria-label') || (n.getAttribute('aria-labelledby') ? 'labelledby' : ''),
          ),
        };
      });
      assert.equal(info.lang, 'de', '<html lang="de">');
      assert.equal(info.mains, 1, 'exactly one <main>');
      assert.ok(info.banners >= 1, 'a <header> banner landmark');
      assert.ok(info.contentinfos >= 1, 'a <footer> contentinfo landmark');
      assert.ok(info.navLabels.length >= 1, 'at least one <nav>');
      assert.ok(info.navLabels.some((l) => l), `a <nav> with aria-label, got ${JSON.stringify(info.navLabels)}`);

      // Cross-check with the accessibility tree as assistive technology sees it.
      const snapshot = await page.locator('body').ariaSnapshot();
      assert.match(snapshot, /^\s*- banner/m, `banner landmark in:\n${snapshot}`);
      assert.match(snapshot, /^\s*- main/m, `main landmark in:\n${snapshot}`);
      assert.match(snapshot, /^\s*- contentinfo/m, `contentinfo landmark in:\n${snapshot}`);
      assert.match(snapshot, /^\s*- navigation "[^"]+"/m, `labelled navigation in:\n${snapshot}`);
    } finally {
      await page.close();
    }
  });
});
