/**
 * The page at `/`: a shell with no data in it (it is served without credentials); the script
 * fetches everything through the data endpoints, which need the same access as the API.
 */
export const PAGE_HTML = pageHtml('');

/**
 * With OpenID providers the body says so: the script then marks its data requests as the UI's
 * (zot's X-ZOT-API-CLIENT: zot-ui), so a 401 comes without a Basic challenge and the browser
 * shows no password dialog before the page can offer "Sign in with <provider>".
 */
export const PAGE_HTML_OPENID = pageHtml(' data-sign-in="openid"');

/**
 * The shell with other body attributes: `data-trust="on"` when the trust extension serves
 * signature reports (docs/trust.md), so the script asks for them only then.
 */
export function pageHtml(bodyAttributes: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>perch registry</title>
<link rel="icon" href="/_ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/_ui/app.css">
<script src="/_ui/app.js" defer></script>
</head>
<body${bodyAttributes}>
<header class="topbar">
  <a class="brand" href="#/"><img src="/_ui/icon.svg" alt="" width="24" height="24"><span>perch</span><span class="brand-sub">registry</span></a>
  <span id="viewer" class="viewer"></span>
</header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p class="notice">This page needs JavaScript. The registry API at /v2/ works without it.</p></noscript>
</body>
</html>
`;
}
