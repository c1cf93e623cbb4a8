/** The page's styles: system fonts, light and dark, nothing fetched from anywhere. */
export const STYLES_CSS = `
:root {
  --bg: #f6f8fa; --panel: #ffffff; --text: #1f2328; --muted: #59636e; --border: #d1d9e0;
  --accent: #0969da; --accent-bg: #ddf4ff; --stripe: #f6f8fa; --code-bg: #eff2f5;
  --ok: #1a7f37; --warn-bg: #fff8c5; --warn-border: #d4a72c;
  --helm: #0f1689; --helm-bg: #e0e4ff; --image: #0550ae; --image-bg: #ddf4ff;
  --index: #8250df; --index-bg: #fbefff; --artifact: #57606a; --artifact-bg: #eaeef2;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  font-size: 15px; line-height: 1.5; color: var(--text); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --panel: #151b23; --text: #e6edf3; --muted: #9198a1; --border: #3d444d;
    --accent: #4493f8; --accent-bg: #0d2a4d; --stripe: #1a2029; --code-bg: #212830;
    --warn-bg: #3b2e05; --warn-border: #9e6a03;
    --helm: #b4bcff; --helm-bg: #22275a; --image: #79c0ff; --image-bg: #0d2a4d;
    --index: #d2a8ff; --index-bg: #3a1d5c; --artifact: #c9d1d9; --artifact-bg: #2d333b;
  }
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.88em; }
.topbar { display: flex; align-items: center; justify-content: space-between; gap: 1rem;
  padding: 0.6rem 1.5rem; background: var(--panel); border-bottom: 1px solid var(--border); }
.brand { display: flex; align-items: center; gap: 0.5rem; color: var(--text); font-weight: 650; font-size: 1.1rem; }
.brand:hover { text-decoration: none; }
.brand-sub { color: var(--muted); font-weight: 400; }
.viewer { color: var(--muted); font-size: 0.9rem; }
.viewer a { margin-left: 0.5rem; }
main { max-width: 1150px; margin: 0 auto; padding: 1.25rem 1.5rem 3rem; outline: none; }
h1 { font-size: 1.45rem; margin: 0.2rem 0 0.9rem; font-weight: 650; display: flex; align-items: center; gap: 0.6rem; flex-wrap: wrap; word-break: break-all; }
h2 { font-size: 1.05rem; margin: 1.8rem 0 0.6rem; font-weight: 650; }
.crumbs { font-size: 0.9rem; color: var(--muted); margin-bottom: 0.2rem; word-break: break-all; }
.crumbs > * + *::before { content: " / "; color: var(--muted); }
.muted { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 8px; overflow-x: auto; }
.toolbar { display: flex; align-items: center; gap: 1rem; margin-bottom: 0.8rem; }
.filter { flex: 1; max-width: 28rem; padding: 0.45rem 0.7rem; font: inherit; color: var(--text);
  background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
.filter:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 0.5rem 0.85rem; border-bottom: 1px solid var(--border); vertical-align: top; }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; background: var(--stripe); }
tr:last-child td { border-bottom: none; }
tbody tr:hover td { background: var(--stripe); }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.empty td { color: var(--muted); text-align: center; padding: 1.5rem; }
.badge { display: inline-block; padding: 0.05rem 0.55rem; border-radius: 999px; font-size: 0.78rem; font-weight: 600; white-space: nowrap; vertical-align: middle; }
.kind-helm-chart { color: var(--helm); background: var(--helm-bg); }
.kind-image { color: var(--image); background: var(--image-bg); }
.kind-index { color: var(--index); background: var(--index-bg); }
.kind-artifact { color: var(--artifact); background: var(--artifact-bg); }
.chip { display: inline-block; margin: 0 0.3rem 0.2rem 0; padding: 0 0.45rem; border-radius: 4px; background: var(--code-bg); font-size: 0.85em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 1.25rem; margin: 0; padding: 0.9rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.pull { display: flex; align-items: stretch; gap: 0; margin: 0.2rem 0 0.4rem; max-width: 52rem; }
.pull code { flex: 1; padding: 0.55rem 0.8rem; background: var(--code-bg); border: 1px solid var(--border); border-right: none;
  border-radius: 6px 0 0 6px; overflow-x: auto; white-space: nowrap; }
button.copy { font: inherit; font-size: 0.85rem; padding: 0.3rem 0.8rem; cursor: pointer; color: var(--text);
  background: var(--panel); border: 1px solid var(--border); border-radius: 0 6px 6px 0; }
button.copy:hover { background: var(--stripe); }
button.copy.small { border-radius: 6px; padding: 0.1rem 0.55rem; font-size: 0.8rem; }
button.copy.done { color: var(--ok); }
.hint { font-size: 0.85rem; color: var(--muted); margin: 0.2rem 0 0; }
.description { font-size: 1rem; margin: 0 0 0.8rem; max-width: 52rem; }
.notice { max-width: 38rem; margin: 3rem auto; padding: 1.5rem 1.75rem; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
.notice h1 { margin-top: 0; }
.notice.warn { background: var(--warn-bg); border-color: var(--warn-border); }
.button { display: inline-block; padding: 0.45rem 1rem; border-radius: 6px; background: var(--accent); color: #fff; font-weight: 600; }
.button:hover { text-decoration: none; filter: brightness(1.08); }
#sign-out { font: inherit; font-size: 0.8rem; margin-left: 0.6rem; padding: 0.1rem 0.55rem; cursor: pointer; color: var(--text);
  background: var(--panel); border: 1px solid var(--border); border-radius: 6px; }
.offscreen { position: fixed; top: 0; left: -10000px; opacity: 0; }
.trust-status { display: inline-block; margin: 0.2rem 0 0.4rem; padding: 0.35rem 0.8rem; border-radius: 6px; font-weight: 600; }
p.trust-verified { color: var(--ok); background: var(--stripe); border: 1px solid var(--ok); }
p.trust-unverified { background: var(--warn-bg); border: 1px solid var(--warn-border); }
p.trust-unsigned { color: var(--muted); background: var(--stripe); border: 1px solid var(--border); }
td.trust-verified { color: var(--ok); }
`;
