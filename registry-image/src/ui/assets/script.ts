/**
 * The page's script, served as /_ui/app.js. Plain browser JavaScript kept as a string so the
 * one-file bundle carries it (no framework, no build step, nothing from a CDN).
 *
 * Rules it keeps, because the Content-Security-Policy (respond.ts) and the data demand them:
 * - Every text from the registry goes into the page through textContent or an attribute
 *   set with setAttribute on an element it made; never innerHTML (Trusted Types forbid it).
 * - Links it makes are "#/..." routes of its own, http(s) URLs from chart metadata, or
 *   downloads of a repository's own attestations (/v2/NAME/blobs/..., /v2/_zot/ext/trust/...).
 * - It fetches only /_ui/api/... and, for a manifest's signatures, the trust extension's report
 *   (/v2/_zot/ext/trust/NAME/manifests/DIGEST, docs/trust.md; only when the page's body says
 *   data-trust="on") on its own origin, with the browser's own credentials:
 *   a 401 there means "sign in", shown as a message with a link to /_ui/login (which offers
 *   the OpenID providers, or the browser's Basic dialog). After an OpenID sign-in it offers
 *   "Sign out": POST /zot/auth/logout, which clears the HttpOnly session cookie.
 * - No template literals or "${" in here: this text is itself inside one (tsc would catch
 *   a backtick; test/ui/assets.test.ts checks the rest).
 *
 * Routes (location.hash, in docker's reference syntax):
 *   #/                       repositories
 *   #/NAME                   a repository's tags
 *   #/NAME:TAG  #/NAME@DIGEST  a manifest
 * The data it reads is described in ../api-types.ts.
 */
export const APP_SCRIPT = String.raw`'use strict';
(function () {
  var main = document.getElementById('main');
  var viewerBox = document.getElementById('viewer');
  var generation = 0;

  // ---- building the page ----

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'text') el.textContent = String(value);
        else if (key === 'onclick') el.addEventListener('click', value);
        else el.setAttribute(key, value === true ? '' : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
    else if (typeof child === 'object') el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }

  function show() {
    var nodes = Array.prototype.slice.call(arguments);
    main.replaceChildren();
    nodes.forEach(function (n) { append(main, n); });
  }

  function table(headers, rows, emptyText) {
    var head = h('tr', null, headers.map(function (col) {
      return h('th', { class: col.num ? 'num' : null, scope: 'col' }, col.label);
    }));
    var body = h('tbody', null, rows);
    if (!rows.length) body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, emptyText || 'Nothing here.')));
    return h('div', { class: 'panel' }, h('table', null, h('thead', null, head), body));
  }

  function facts(pairs) {
    var dl = h('dl', { class: 'facts' });
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      dl.appendChild(h('dt', null, p[0]));
      dl.appendChild(h('dd', null, p[1]));
    });
    return h('div', { class: 'panel' }, dl);
  }

  var KIND_LABELS = { 'helm-chart': 'Helm chart', image: 'Image', index: 'Image index', artifact: 'Artifact' };
  function kindBadge(kind) {
    return h('span', { class: 'badge kind-' + kind }, KIND_LABELS[kind] || kind);
  }

  function crumbs(parts) {
    return h('div', { class: 'crumbs' }, parts);
  }

  // ---- formatting ----

  function formatBytes(n) {
    if (typeof n !== 'number') return '';
    if (n < 1024) return n + ' B';
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var value = n;
    var unit = -1;
    do { value = value / 1024; unit++; } while (value >= 1024 && unit < units.length - 1);
    return (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)) + ' ' + units[unit];
  }

  var relative = typeof Intl !== 'undefined' && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;
  function formatAgo(ms) {
    var seconds = Math.round((ms - Date.now()) / 1000);
    var steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'], [Infinity, 'year']];
    var value = seconds;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(value) < steps[i][0]) return relative ? relative.format(value, steps[i][1]) : new Date(ms).toLocaleString();
      value = Math.round(value / steps[i][0]);
    }
    return new Date(ms).toLocaleString();
  }

  function when(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return h('span', { class: 'muted' }, 'never');
    var iso = new Date(ms).toISOString();
    return h('time', { datetime: iso, title: new Date(ms).toLocaleString() }, formatAgo(ms));
  }

  function shortDigest(digest) {
    var i = digest.indexOf(':');
    return digest.slice(0, i + 13);
  }

  function digestCell(digest, href) {
    var text = h('code', { title: digest }, shortDigest(digest));
    return href ? h('a', { href: href }, text) : text;
  }

  function platformName(p) {
    return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : '';
  }

  // ---- routes ----

  function repoHref(name) { return '#/' + name; }
  function tagHref(name, tag) { return '#/' + name + ':' + tag; }
  function digestHref(name, digest) { return '#/' + name + '@' + digest; }

  /** "#/a/b:tag" -> { repo: "a/b", tag: "tag" }; names hold neither ":" nor "@". */
  function parseRoute(hash) {
    var path = hash.replace(/^#\/?/, '');
    try { path = decodeURIComponent(path); } catch (e) { /* a stray "%": take it as written */ }
    if (!path) return { view: 'repositories' };
    var at = path.indexOf('@');
    if (at !== -1) return { view: 'manifest', repo: path.slice(0, at), reference: path.slice(at + 1) };
    var colon = path.lastIndexOf(':');
    if (colon !== -1 && path.indexOf('/', colon) === -1) return { view: 'manifest', repo: path.slice(0, colon), reference: path.slice(colon + 1) };
    return { view: 'repository', repo: path };
  }

  function apiPath(parts) {
    return '/_ui/api/' + parts.map(function (p) { return p.split('/').map(encodeURIComponent).join('/'); }).join('/');
  }

  // ---- talking to the registry ----

  function Problem(kind, message) { this.kind = kind; this.message = message; }

  function getJson(path) {
    var headers = { Accept: 'application/json' };
    // With OpenID sign-in (page.ts) a 401 must not open the browser's password dialog: zot's UI header asks for none.
    if (document.body.getAttribute('data-sign-in') === 'openid') headers['X-ZOT-API-CLIENT'] = 'zot-ui';
    return fetch(path, { credentials: 'same-origin', headers: headers }).then(function (res) {
      if (res.ok) return res.json();
      return res.json().catch(function () { return {}; }).then(function (body) {
        var first = body && body.errors && body.errors[0];
        var message = first && first.message ? first.message : res.status + ' ' + res.statusText;
        if (res.status === 401) throw new Problem('login', message);
        if (res.status === 403) throw new Problem('denied', message);
        if (res.status === 404) throw new Problem('missing', message);
        throw new Problem('error', message);
      });
    }, function (err) {
      throw new Problem('error', 'The registry did not answer: ' + (err && err.message ? err.message : err));
    });
  }

  function showViewer(data) {
    viewerBox.replaceChildren();
    if (data.user) append(viewerBox, ['Signed in as ', h('strong', null, data.user), data.session ? signOutButton() : null]);
    else if (data.login) append(viewerBox, ['Browsing anonymously', h('a', { href: '/_ui/login' }, 'Sign in')]);
  }

  /** After an OpenID sign-in the session cookie is HttpOnly: only the registry can clear it. */
  function signOutButton() {
    var button = h('button', { type: 'button', id: 'sign-out', class: 'small' }, 'Sign out');
    button.addEventListener('click', function () {
      button.disabled = true;
      fetch('/zot/auth/logout', { method: 'POST', credentials: 'same-origin' }).then(function () {
        location.assign('/');
      }, function () {
        button.disabled = false;
        button.textContent = 'Sign out failed: try again';
      });
    });
    return button;
  }

  function showProblem(problem, what) {
    if (!(problem instanceof Problem)) problem = new Problem('error', String(problem && problem.message || problem));
    if (problem.kind === 'login') {
      viewerBox.replaceChildren(h('a', { href: '/_ui/login' }, 'Sign in'));
      document.title = 'Sign in · perch registry';
      show(h('section', { class: 'notice', id: 'login-needed' },
        h('h1', null, 'Sign in to browse this registry'),
        h('p', null, 'This registry shows its repositories only to users who have signed in: with their registry user name and password (the ones docker login and helm registry login take), or with the sign-in provider the registry offers.'),
        h('p', null, h('a', { class: 'button', href: '/_ui/login' }, 'Sign in'))));
      return;
    }
    var title = problem.kind === 'denied' ? 'Not allowed' : problem.kind === 'missing' ? 'Not found' : 'Something went wrong';
    document.title = title + ' · perch registry';
    show(h('section', { class: 'notice warn', id: 'problem' },
      h('h1', null, title),
      h('p', null, what ? what + ': ' : '', problem.message),
      h('p', null, h('a', { href: '#/' }, 'All repositories'))));
  }

  function copyButton(text, small) {
    var button = h('button', { type: 'button', class: small ? 'copy small' : 'copy', title: 'Copy: ' + text }, 'Copy');
    button.addEventListener('click', function () {
      copyText(text).then(function (ok) {
        button.textContent = ok ? 'Copied' : 'Press Ctrl+C';
        button.classList.toggle('done', ok);
        setTimeout(function () { button.textContent = 'Copy'; button.classList.remove('done'); }, 1600);
      });
    });
    return button;
  }

  /** The Clipboard API needs a secure context; plain-HTTP registries fall back to a selection. */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () { return fallbackCopy(text); });
    }
    return Promise.resolve(fallbackCopy(text));
  }

  function fallbackCopy(text) {
    var area = h('textarea', { readonly: true, class: 'offscreen', 'aria-hidden': 'true' });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  function pullBox(command) {
    var local = /^(localhost|127\.[0-9.]+|\[::1\])(:|$)/.test(location.host);
    return [
      h('div', { class: 'pull' }, h('code', { id: 'pull-command' }, command), copyButton(command)),
      location.protocol === 'http:' && !local && /^docker /.test(command)
        ? h('p', { class: 'hint' }, 'This registry is served over plain HTTP: docker needs ' + location.host + ' in its insecure-registries.')
        : null,
    ];
  }

  // ---- views ----

  function repositoriesView(data) {
    showViewer(data);
    document.title = 'Repositories · perch registry';
    var repos = data.repositories;
    var count = h('span', { class: 'muted', id: 'repo-count' });
    var input = h('input', { type: 'search', class: 'filter', id: 'filter', placeholder: 'Filter repositories  ( / )', 'aria-label': 'Filter repositories', autocomplete: 'off', spellcheck: 'false' });
    var rows = repos.map(function (r) {
      return h('tr', { 'data-name': r.name },
        h('td', null, h('a', { href: repoHref(r.name), class: 'repo-link' }, r.name)),
        h('td', { class: 'num' }, r.tags),
        h('td', { class: 'nowrap' }, when(r.lastPushedMs)));
    });
    var noMatch = h('tr', { class: 'empty', hidden: true }, h('td', { colspan: 3 }, ''));
    var panel = table([{ label: 'Repository' }, { label: 'Tags', num: true }, { label: 'Last push' }], rows,
      data.login && !data.user ? 'No repositories are open to anonymous readers. Sign in to see more.' : 'No repositories yet. Push one with docker push or helm push.');
    if (rows.length) panel.querySelector('tbody').appendChild(noMatch);

    function applyFilter() {
      var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var name = row.getAttribute('data-name');
        var match = words.every(function (w) { return name.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) shown++;
      });
      noMatch.hidden = shown !== 0 || !rows.length;
      noMatch.firstChild.textContent = 'No repository matches "' + input.value.trim() + '".';
      count.textContent = words.length ? shown + ' of ' + repos.length : repos.length + (repos.length === 1 ? ' repository' : ' repositories');
      try { sessionStorage.setItem('perch.filter', input.value); } catch (e) { /* storage off: the filter is just not kept */ }
    }
    try { input.value = sessionStorage.getItem('perch.filter') || ''; } catch (e) { input.value = ''; }
    input.addEventListener('input', applyFilter);
    applyFilter();
    show(h('h1', null, 'Repositories'), h('div', { class: 'toolbar' }, input, count), panel);
  }

  function repositoryView(data) {
    showViewer(data);
    var name = data.repository;
    document.title = name + ' · perch registry';
    var tags = data.tags.slice().sort(function (a, b) { return b.pushedMs - a.pushedMs || (a.tag < b.tag ? -1 : 1); });
    var kinds = {};
    tags.forEach(function (t) { kinds[t.kind] = true; });
    // Platforms only mean something for indexes; a repository of charts gets no empty column.
    var withPlatforms = tags.some(function (t) { return t.platforms.length > 0; });
    var rows = tags.map(function (t) {
      return h('tr', { 'data-tag': t.tag },
        h('td', null, h('a', { href: tagHref(name, t.tag), class: 'tag-link' }, t.tag)),
        h('td', null, kindBadge(t.kind)),
        withPlatforms ? h('td', null, t.platforms.map(function (p) { return h('span', { class: 'chip' }, p); })) : null,
        h('td', { class: 'num' }, formatBytes(t.size)),
        h('td', { class: 'nowrap' }, when(t.pushedMs)),
        h('td', null, digestCell(t.digest, digestHref(name, t.digest))),
        h('td', null, copyButton(t.pull, true)));
    });
    var headers = [{ label: 'Tag' }, { label: 'Type' }, withPlatforms ? { label: 'Platforms' } : null, { label: 'Size', num: true }, { label: 'Pushed' }, { label: 'Digest' }, { label: 'Pull' }];
    show(
      crumbs([h('a', { href: '#/' }, 'Repositories'), h('span', null, name)]),
      h('h1', null, name, Object.keys(kinds).length === 1 ? kindBadge(Object.keys(kinds)[0]) : null),
      table(headers.filter(Boolean), rows, 'This repository has no tags.'));
  }

  function chartSection(chart) {
    var home = chart.home && /^https?:\/\//i.test(chart.home) ? h('a', { href: chart.home, rel: 'noopener noreferrer', target: '_blank' }, chart.home) : chart.home;
    var section = [
      h('h2', null, 'Chart'),
      chart.description ? h('p', { class: 'description', id: 'chart-description' }, chart.description) : null,
      facts([
        ['Name', chart.name],
        ['Version', chart.version],
        ['App version', chart.appVersion],
        ['Type', chart.type],
        ['API version', chart.apiVersion],
        ['Kubernetes', chart.kubeVersion],
        ['Deprecated', chart.deprecated ? 'yes' : null],
        ['Home', home],
        ['Keywords', chart.keywords.length ? chart.keywords.map(function (k) { return h('span', { class: 'chip' }, k); }) : null],
        ['Maintainers', chart.maintainers.length ? chart.maintainers.map(function (m) { return m.name || m.email || m.url; }).join(', ') : null],
      ]),
      h('h2', null, 'Dependencies'),
      table([{ label: 'Chart' }, { label: 'Version' }, { label: 'Repository' }, { label: 'Condition' }],
        chart.dependencies.map(function (d) {
          return h('tr', { class: 'dependency' },
            h('td', null, d.name, d.alias ? h('span', { class: 'muted' }, ' as ' + d.alias) : null),
            h('td', null, d.version || ''),
            h('td', null, h('code', null, d.repository || '')),
            h('td', null, d.condition ? h('code', null, d.condition) : ''));
        }), 'This chart has no dependencies.'),
    ];
    return section;
  }

  function manifestView(data) {
    showViewer(data);
    var name = data.repository;
    var isDigest = data.reference.indexOf(':') !== -1;
    var title = isDigest ? name + '@' + shortDigest(data.digest) : name + ':' + data.reference;
    document.title = title + ' · perch registry';
    var parts = [
      crumbs([h('a', { href: '#/' }, 'Repositories'), h('a', { href: repoHref(name) }, name), h('span', null, isDigest ? shortDigest(data.digest) : data.reference)]),
      h('h1', null, h('span', null, title), kindBadge(data.kind)),
      pullBox(data.pull),
    ];
    if (data.chart) parts.push(chartSection(data.chart));

    parts.push(h('h2', null, 'Manifest'), facts([
      ['Digest', h('code', null, data.digest)],
      ['Media type', h('code', null, data.mediaType)],
      ['Artifact type', data.artifactType ? h('code', null, data.artifactType) : null],
      ['Size', formatBytes(data.size) + (data.kind === 'index' ? ' (all platforms)' : '') + ' · manifest ' + formatBytes(data.manifestSize)],
      ['Pushed', typeof data.pushedMs === 'number' ? when(data.pushedMs) : null],
      ['Tags', data.tags.length ? data.tags.map(function (t) { return h('a', { href: tagHref(name, t), class: 'chip' }, t); }) : h('span', { class: 'muted' }, 'none')],
      ['Platform', data.platform ? platformName(data.platform) : null],
      // As written in the image config when it is not a date (anyone who pushes writes it).
      ['Created', data.created ? (isFinite(Date.parse(data.created)) ? when(Date.parse(data.created)) : data.created) : null],
      ['Subject', data.subject ? digestCell(data.subject, digestHref(name, data.subject)) : null],
    ]));

    if (document.body.getAttribute('data-trust') === 'on') {
      var trustBox = h('section', { id: 'trust' });
      parts.push(trustBox);
      loadTrust(trustBox, name, data.digest);
    }

    if (data.kind === 'index') {
      parts.push(h('h2', null, 'Platforms'), table([{ label: 'Platform' }, { label: 'Size', num: true }, { label: 'Manifest' }],
        data.children.map(function (c) {
          var label = c.attestation ? 'attestation' : c.platform ? platformName(c.platform) : (c.artifactType || 'unknown');
          return h('tr', { class: 'platform' },
            h('td', null, h('span', { class: c.attestation ? 'muted' : 'platform-name' }, label)),
            h('td', { class: 'num' }, formatBytes(c.pullSize)),
            h('td', null, digestCell(c.digest, digestHref(name, c.digest))));
        }), 'This index lists no manifests.'));
    }

    if (data.config || data.layers.length) {
      var blobRows = [];
      if (data.config) blobRows.push(h('tr', null, h('td', null, 'config'), h('td', null, h('code', null, data.config.mediaType)), h('td', { class: 'num' }, formatBytes(data.config.size)), h('td', null, digestCell(data.config.digest))));
      data.layers.forEach(function (l, i) {
        blobRows.push(h('tr', { class: 'layer' },
          h('td', null, String(i + 1)),
          h('td', null, h('code', null, l.mediaType), l.title ? h('div', { class: 'muted' }, l.title) : null),
          h('td', { class: 'num' }, formatBytes(l.size)),
          h('td', null, digestCell(l.digest))));
      });
      parts.push(h('h2', null, 'Layers'), table([{ label: '#' }, { label: 'Media type' }, { label: 'Size', num: true }, { label: 'Digest' }], blobRows));
    }

    parts.push(h('h2', null, 'Referrers'), table([{ label: 'Artifact type' }, { label: 'Size', num: true }, { label: 'Created' }, { label: 'Manifest' }],
      data.referrers.map(function (r) {
        var created = r.annotations && r.annotations['org.opencontainers.image.created'];
        return h('tr', { class: 'referrer' },
          h('td', null, h('code', null, r.artifactType || r.mediaType)),
          h('td', { class: 'num' }, formatBytes(r.size)),
          h('td', { class: 'nowrap' }, created && !isNaN(Date.parse(created)) ? when(Date.parse(created)) : ''),
          h('td', null, digestCell(r.digest, digestHref(name, r.digest))));
      }), 'Nothing refers to this manifest (no signatures, SBOMs or other referrers).'));

    if (data.annotations) {
      parts.push(h('h2', null, 'Annotations'), facts(Object.keys(data.annotations).sort().map(function (k) { return [k, data.annotations[k]]; })));
    }
    show.apply(null, parts);
  }

  // ---- signatures and attestations (the trust extension) ----

  function trustPath(name, digest) {
    return '/v2/_zot/ext/trust/' + name.split('/').map(encodeURIComponent).join('/') + '/manifests/' + encodeURIComponent(digest);
  }

  function keyLabel(key) {
    return key ? key.name + ' (' + shortDigest(key.id) + ')' : '';
  }

  function trustStatusText(report) {
    if (report.status === 'verified') return 'Signed \u2014 verified by ' + keyLabel(report.verifiedBy);
    if (report.status === 'unsigned') return 'Not signed';
    var cosign = report.signatures.some(function (s) { return s.tool === 'cosign'; });
    if (!cosign) return 'Signed \u2014 not verified (notation signatures are not verified)';
    return report.keysConsidered === 0 ? 'Signed \u2014 not verified (no trusted key uploaded)' : 'Signed \u2014 not verified (unknown key)';
  }

  function loadTrust(box, name, digest) {
    var mine = generation;
    getJson(trustPath(name, digest)).then(function (report) {
      if (mine !== generation) return;
      append(box, h('h2', null, 'Signature'));
      append(box, h('p', { class: 'trust-status trust-' + report.status }, trustStatusText(report)));
      append(box, h('h2', null, 'SBOMs and attestations'));
      append(box, table([{ label: 'Type' }, { label: 'Signature' }, { label: 'Size', num: true }, { label: 'Download' }],
        report.attestations.map(function (a) {
          return h('tr', { class: 'attestation', 'data-predicate-type': a.predicateType },
            h('td', null, a.label ? h('div', null, a.label) : null, h('code', null, a.predicateType)),
            h('td', { class: a.verified ? 'trust-verified' : 'trust-unverified' }, a.verified ? 'verified by ' + keyLabel(a.key) : 'not verified'),
            h('td', { class: 'num' }, formatBytes(a.layer.size)),
            h('td', null,
              h('a', { href: a.predicate, class: 'download-predicate', download: (a.label || 'predicate').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase() + '.json' }, 'document'),
              ' \u00b7 ',
              h('a', { href: a.download, class: 'download-envelope', download: 'attestation-' + a.layer.digest.slice(7, 19) + '.json' }, 'signed envelope')));
        }), 'No SBOM or other attestation is attached.'));
      box.setAttribute('data-trust', report.status);
    }, function (problem) {
      if (mine !== generation) return;
      append(box, h('p', { class: 'muted' }, 'Signatures: ' + problem.message));
      box.setAttribute('data-trust', 'problem');
    });
  }

  // ---- navigation ----

  function render() {
    var mine = ++generation;
    var route = parseRoute(location.hash);
    var request, view, what;
    if (route.view === 'repositories') {
      request = getJson('/_ui/api/repositories'); view = repositoriesView; what = 'Listing repositories';
    } else if (route.view === 'repository') {
      request = getJson(apiPath(['repositories', route.repo, 'tags', 'list'])); view = repositoryView; what = 'Repository ' + route.repo;
    } else {
      request = getJson(apiPath(['repositories', route.repo, 'manifests', route.reference])); view = manifestView; what = route.repo + ' ' + route.reference;
    }
    // A view that fails on data it did not expect says so, instead of staying at "Loading".
    request.then(function (data) {
      if (mine !== generation) return;
      view(data);
      main.setAttribute('data-ready', route.view);
    }).then(null, function (problem) {
      if (mine !== generation) return;
      showProblem(problem, what);
      main.setAttribute('data-ready', 'problem');
    });
  }

  window.addEventListener('hashchange', function () { main.removeAttribute('data-ready'); render(); window.scrollTo(0, 0); });
  document.addEventListener('keydown', function (e) {
    var filter = document.getElementById('filter');
    if (e.key === '/' && filter && document.activeElement !== filter) { e.preventDefault(); filter.focus(); }
  });
  render();
})();
`;
