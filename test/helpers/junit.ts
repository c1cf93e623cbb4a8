/**
 * Reads the JUnit XML that the OCI conformance suite writes (Go's encoding/xml: attributes in
 * double quotes, text escaped as entities, no CDATA in the parts we read). A full XML parser
 * would be a new dependency for four element types; this reads exactly those.
 *
 * The file's <testsuite tests/failures/skipped> attributes count every node of the suite's
 * tree (groups too), so callers that want "how many checks" count the <testcase> leaves here.
 */

export type JunitStatus = 'passed' | 'failure' | 'error' | 'skipped';

export interface JunitCase {
  name: string;
  status: JunitStatus;
  /** The suite's reason (from <system-out>): the failed assertion, or why it skipped. */
  message: string;
  /** Every request and response the case made (from <system-err>). */
  trace: string;
}

export interface JunitReport {
  cases: JunitCase[];
  counts: Record<JunitStatus, number>;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? decodeXmlText(m[1]) : undefined;
}

function child(body: string, element: string): string {
  const m = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`).exec(body);
  return m ? decodeXmlText(m[1]) : '';
}

function statusOf(openTag: string, body: string): JunitStatus {
  // The redesigned suite writes status="..."; classic JUnit marks it with a child element.
  const status = attribute(openTag, 'status');
  if (status === 'passed' || status === 'failure' || status === 'error' || status === 'skipped') return status;
  if (/<failure[\s>/]/.test(body)) return 'failure';
  if (/<error[\s>/]/.test(body)) return 'error';
  if (/<skipped[\s>/]/.test(body)) return 'skipped';
  return 'passed';
}

export function parseJunit(xml: string): JunitReport {
  const cases: JunitCase[] = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const openTag = m[1];
    const body = m[3] ?? '';
    const status = statusOf(openTag, body);
    const reason = /<(?:failure|error|skipped)\b[^>]*\smessage="([^"]*)"/.exec(body);
    cases.push({
      name: attribute(openTag, 'name') ?? '(unnamed)',
      status,
      message: child(body, 'system-out') || (reason ? decodeXmlText(reason[1]) : ''),
      trace: child(body, 'system-err'),
    });
  }
  const counts: Record<JunitStatus, number> = { passed: 0, failure: 0, error: 0, skipped: 0 };
  for (const c of cases) counts[c.status] += 1;
  return { cases, counts };
}
