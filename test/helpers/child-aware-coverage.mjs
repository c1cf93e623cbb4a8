// A vitest coverage provider: vitest's own V8 provider, plus the coverage of the bundled
// server (`registry-image/dist/perch.js`) that the suites start as child processes.
//
// Why: most suites test what ships, the esbuild bundle run by `node perch.js serve`, in a
// child process. Vitest's `coverage.autoAttachSubprocess` already makes every child Node
// process write its V8 coverage (it sets NODE_V8_COVERAGE for them) and feeds it to the
// provider, but it converts a child's scripts without their source maps, so the whole
// server would show up as one minified bundle file. This provider reads the bundle's
// source map (linked `perch.js.map` or inline) and lets ast-v8-to-istanbul (the converter
// vitest itself uses) attribute the bundle's counts to the TypeScript files it was built
// from, so the report shows `registry-image/src/**` covered by both in-process and
// child-process tests, merged by istanbul's location-based merge.
//
// Limits: a child writes its coverage only when it exits normally (process.exit, or the
// event loop draining after SIGTERM handling); a child killed by SIGKILL contributes
// nothing. Only children that have exited by the end of their test file are counted.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8Runtime from '@vitest/coverage-v8';
import { V8CoverageProvider } from '@vitest/coverage-v8/dist/provider.js';

/** Bundles whose coverage is remapped through their source maps (relative to the root). */
export const CHILD_BUNDLES = [/\/registry-image\/dist\/[^/]+\.(c|m)?js$/];

function isChildBundle(filename) {
  const path = filename.startsWith('file://') ? fileURLToPath(filename) : filename;
  return CHILD_BUNDLES.some((re) => re.test(path));
}

const MAP_COMMENT = /\/\/[#@] sourceMappingURL=([^\s'"]+)\s*$/;

/** The source map of a generated file, or undefined when it has none we can read. */
function readSourceMap(file, code) {
  const tail = code.slice(-4096);
  const m = MAP_COMMENT.exec(tail);
  if (!m) return undefined;
  const ref = m[1];
  let raw;
  if (ref.startsWith('data:')) {
    const comma = ref.indexOf(',');
    const body = ref.slice(comma + 1);
    raw = /;base64/.test(ref.slice(0, comma)) ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
  } else {
    const mapPath = resolve(dirname(file), ref);
    if (!existsSync(mapPath)) return undefined;
    raw = readFileSync(mapPath, 'utf8');
  }
  const map = JSON.parse(raw);
  // ast-v8-to-istanbul names files by the map's sources; make them absolute file URLs the
  // way vitest's own provider does, so they match the in-process entries for the same file.
  const base = pathToFileURL(file).href;
  const root = map.sourceRoot ? new URL(map.sourceRoot.endsWith('/') ? map.sourceRoot : `${map.sourceRoot}/`, base).href : base;
  map.sources = (map.sources ?? []).filter((s) => s != null).map((s) => new URL(s, root).href);
  delete map.sourceRoot;
  return map;
}

class ChildAwareV8Provider extends V8CoverageProvider {
  // A child's bundle must pass the include filter to be converted at all; what it maps to
  // is filtered afterwards (excludeAfterRemap), and the bundle itself never reaches the report.
  isIncluded(filename, root) {
    if (isChildBundle(filename)) return true;
    return super.isIncluded(filename, root);
  }

  async getSources(url, onTransform, functions = [], isExtendedContext = false) {
    if (isChildBundle(url)) {
      const file = fileURLToPath(url);
      const code = await readFile(file, 'utf8').catch(() => undefined);
      const map = code === undefined ? undefined : readSourceMap(file, code);
      if (code !== undefined && map) return { code, map };
      if (code !== undefined && !warnedNoMap) {
        warnedNoMap = true;
        this.ctx.logger.warn(`coverage: ${file} has no source map; build it with sourcemap on to see the server's coverage per source file`);
      }
    }
    return super.getSources(url, onTransform, functions, isExtendedContext);
  }

  async generateCoverage(context) {
    const map = await super.generateCoverage(context);
    map.filter((filename) => !isChildBundle(filename));
    return map;
  }
}
let warnedNoMap = false;

// The worker-side half (start/take/stop coverage) is vitest's own, unchanged.
export default {
  ...v8Runtime,
  async getProvider() {
    return new ChildAwareV8Provider();
  },
};
