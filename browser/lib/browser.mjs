// Launches Debian's Chromium through playwright-core and runs axe-core checks.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
let axeSource;

export const A11Y_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const LAUNCH_OPTIONS = {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/**
 * Launches headless Chromium. On a busy 2-core machine a launch can fail
 * once; it is retried one time, and the first error is logged.
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchBrowser() {
  try {
    return await chromium.launch(LAUNCH_OPTIONS);
  } catch (err) {
    process.stderr.write(`chromium launch failed, retrying once: ${err.message}\n`);
    return chromium.launch(LAUNCH_OPTIONS);
  }
}

const hasAxe = (page) => page.evaluate(() => typeof window.axe?.run === 'function');

// Rathaus pages send a strict Content-Security-Policy (script-src 'self'),
// which blocks the inline <script> of page.addScriptTag. The tests must keep
// the CSP active (it is part of what they check), so in that case the axe
// source is evaluated through the DevTools protocol, which CSP does not govern.
async function injectAxe(page) {
  if (await hasAxe(page)) return;
  try {
    await page.addScriptTag({ content: axeSource });
  } catch {
    // blocked by CSP: fall through
  }
  if (!(await hasAxe(page))) await page.evaluate(`${axeSource}\n;undefined`);
  if (!(await hasAxe(page))) throw new Error('could not inject axe-core into the page');
}

/**
 * Runs axe-core (WCAG 2.1 A + AA rules) on the current page.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<object[]>} axe violations (empty when the page passes)
 */
export async function checkA11y(page) {
  axeSource ??= await readFile(AXE_PATH, 'utf8');
  await injectAxe(page);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
    });
    // Only plain data crosses back to node.
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target,
        html: n.html,
        failureSummary: n.failureSummary,
      })),
    }));
  }, A11Y_TAGS);
}

/**
 * Human-readable list of violations, for assertion messages.
 * @param {object[]} violations
 * @returns {string}
 */
export function formatViolations(violations) {
  if (!violations || violations.length === 0) return 'no accessibility violations';
  const lines = [`${violations.length} accessibility violation(s):`];
  for (const v of violations) {
    lines.push(`- [${v.impact ?? 'unknown'}] ${v.id}: ${v.help}`);
    if (v.helpUrl) lines.push(`    ${v.helpUrl}`);
    for (const n of v.nodes) {
      const target = Array.isArray(n.target) ? n.target.map(String).join(' ') : String(n.target);
      lines.push(`    at ${target}`);
      if (n.html) lines.push(`       ${n.html.length > 200 ? n.html.slice(0, 200) + '…' : n.html}`);
      if (n.failureSummary) {
        for (const s of n.failureSummary.split('\n')) lines.push(`       ${s}`);
      }
    }
  }
  return lines.join('\n');
}
