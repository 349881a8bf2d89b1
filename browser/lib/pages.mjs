// Pages checked with axe-core (WCAG 2.1 AA) by tests/a11y.test.mjs.
//
// New features: append the paths of their pages here. An entry is either a
// path (the page must answer 200) or { path, status } for another expected
// HTTP status.
export const A11Y_PAGES = [
  '/', // Landesportal
  '/koeln/',
  '/dahlem/',
  '/kreis-euskirchen/',
  '/koeln/barrierefreiheit',
  '/suche?q=Hund',
  '/koeln/suche?q=Hund+anmelden',
  '/koeln/suche?q=xyzxyz', // no hits
  '/koeln/suche?q=Anmeldung&online=1',
  '/koeln/leistungen/2939', // Hundehaltung Anmeldung, offered online in Köln
  '/anmelden', // Servicekonto login
  '/konto/registrieren',
  '/konto/passwort-vergessen',
  '/leistungen/2948',
  '/assistent?q=Ich+m%C3%B6chte+ein+Caf%C3%A9+er%C3%B6ffnen',
  '/ozg-dashboard',
  '/ozg-dashboard?sort=anteil&dir=desc',
  '/koeln/ozg-dashboard',
  { path: '/gibt-es-nicht/', status: 404 },
];

/** @returns {{ path: string, status: number }[]} */
export function a11yPages() {
  return A11Y_PAGES.map((p) => (typeof p === 'string' ? { path: p, status: 200 } : { status: 200, ...p }));
}
