/**
 * S3's XML, both ways: rendering the documents the API answers with (tag by tag, escaped), and
 * reading the few request bodies it takes (CompleteMultipartUpload, DeleteObjects,
 * CreateBucketConfiguration). Those are flat, well-known shapes: each is read by element name,
 * no general XML parser is needed, and no DTD or entity other than the five predefined ones
 * and numeric references is ever expanded.
 */

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** `<name>text</name>`, the text escaped; undefined renders nothing. */
export function el(name: string, text: string | number | boolean | undefined): string {
  if (text === undefined) return '';
  return `<${name}>${escapeXml(String(text))}</${name}>`;
}

/** A whole document: the declaration, then the root element with S3's namespace. */
export function xmlDocument(root: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`;
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, ref: string) => {
    if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[ref]!;
  });
}

/** The raw inner text of every `<name>` element (with or without a namespace prefix), in order. */
export function elements(xml: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_-]+:)?${name}>`, 'g');
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(m[1]!);
  return out;
}

/** The unescaped text of the first `<name>` in `xml`; CDATA sections are taken as written. */
export function textOf(xml: string, name: string): string | undefined {
  const raw = elements(xml, name)[0];
  if (raw === undefined) return undefined;
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(raw);
  return cdata ? cdata[1] : unescapeXml(raw);
}

/** S3's timestamps in XML: ISO 8601 with milliseconds, UTC. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
