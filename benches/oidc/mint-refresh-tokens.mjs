#!/usr/bin/env node
// Mints refresh tokens for the refresh benchmark: a real authorization code flow with PKCE for
// the public client demo-spa, driven in headless Chromium (the login form "E-Mail"/"Passwort"/
// "Anmelden" and the consent button "Zustimmen", as in browser/tests/oidc.test.mjs), one login
// and then one authorization + code exchange per token in the same browser session.
// Works against Rathaus and against benches/oidc/op-server.mjs alike.
//
//   node benches/oidc/mint-refresh-tokens.mjs --issuer http://127.0.0.1:PORT --count 64 \
//        --out tokens-a.txt [--out tokens-b.txt …] [--probe probe.json]
//
// Each --out file gets --count tokens, one per line. --probe spends one more token on a single
// refresh and one client_credentials request and writes what came back (response members, JWT
// headers) as JSON, so that the two servers' answers can be compared in the report.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BROWSER_LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'browser', 'lib');
const { launchBrowser } = await import(pathToFileURL(path.join(BROWSER_LIB, 'browser.mjs')).href);
const { mintRefreshTokens, requireDiscovery, DEMO } = await import(pathToFileURL(path.join(BROWSER_LIB, 'oidc.mjs')).href);

const { values: opts } = parseArgs({
  options: {
    issuer: { type: 'string' },
    count: { type: 'string', default: '64' },
    out: { type: 'string', multiple: true, default: [] },
    probe: { type: 'string' },
    'client-id': { type: 'string', default: DEMO.spa },
    'cc-client-id': { type: 'string', default: DEMO.backoffice },
    'cc-client-secret': { type: 'string', default: DEMO.backofficeSecret },
  },
});
if (!opts.issuer || opts.out.length === 0) {
  console.error('usage: mint-refresh-tokens.mjs --issuer URL --count N --out FILE [--out FILE …] [--probe FILE]');
  process.exit(2);
}
const issuer = opts.issuer.replace(/\/+$/, '');
const count = Number(opts.count);
const total = count * opts.out.length + (opts.probe ? 1 : 0);
const discovery = await requireDiscovery(issuer);

const browser = await launchBrowser();
const started = Date.now();
let tokens;
try {
  tokens = await mintRefreshTokens({
    browser,
    issuer,
    clientId: opts['client-id'],
    count: total,
    onProgress: (n) => {
      if (n % 16 === 0 || n === total) process.stderr.write(`\r[mint] ${n}/${total} refresh tokens`);
    },
  });
} finally {
  await browser.close();
}
process.stderr.write(` (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

for (const [i, file] of opts.out.entries()) {
  await writeFile(file, tokens.slice(i * count, (i + 1) * count).join('\n') + '\n');
}

if (opts.probe) {
  const header = (jwt) => {
    if (typeof jwt !== 'string' || jwt.split('.').length !== 3) return 'opaque';
    const h = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString());
    return `${h.alg}${h.typ ? ` ${h.typ}` : ''}`;
  };
  const describe = (json) => ({
    members: Object.keys(json).sort(),
    access_token: header(json.access_token),
    id_token: json.id_token ? header(json.id_token) : undefined,
    refresh_token: json.refresh_token ? `${header(json.refresh_token)}, ${json.refresh_token.length} chars` : undefined,
  });
  const post = async (body, headers = {}) => {
    const r = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
    });
    const json = await r.json();
    if (r.status !== 200) throw new Error(`probe: HTTP ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const refresh = await post({ grant_type: 'refresh_token', client_id: opts['client-id'], refresh_token: tokens.at(-1) });
  const basic = Buffer.from(`${opts['cc-client-id']}:${opts['cc-client-secret']}`).toString('base64');
  const cc = await post({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
  await writeFile(
    opts.probe,
    JSON.stringify({ token_endpoint: discovery.token_endpoint, refresh: describe(refresh), client_credentials: describe(cc) }, null, 2) + '\n',
  );
}
