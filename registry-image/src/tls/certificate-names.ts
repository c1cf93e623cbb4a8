/**
 * The names in a client certificate, read from its DER bytes, as zot (Go's crypto/x509) sees
 * them, so an http.accessControl written for zot's mutual TLS names the same users here:
 *
 *   subject     the subject DN as Go's pkix.Name.String() prints it: the attributes Go knows
 *               (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER) regrouped in that order
 *               and printed last-first ("CN=alice,OU=ci,O=Roost,C=DE"), several values of one
 *               kind joined with "+", RFC 2253 escapes; any other attribute (emailAddress, UID,
 *               ...) after them as "<oid>=#<hex of its DER>", last-first
 *   commonName  the last CN (Go keeps the last), "" when there is none
 *   emails, dnsNames, uris   subjectAltName rfc822Name, dNSName and URI entries, in order
 *
 * Why not Node's own parse: X509Certificate.subject prints in OpenSSL's order and escaping, and
 * its subjectAltName is one string that must be split again; reading the DER is ~100 lines and
 * gives exactly the values. test/auth/mtls-identity.test.ts compares every field with Go's
 * output for the same certificates.
 *
 * A URI is kept as written in the certificate (Go reparses and reprints it, which changes
 * nothing for a well-formed URI such as a SPIFFE ID). Strings Go refuses (a UniversalString, a
 * PrintableString with "@") make the whole certificate unreadable in Go, so zot's handshake
 * fails; here they make the subject unavailable (an Error, and no CommonName), and only a
 * subjectAltName attribute can still name the user.
 */

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset after the last content byte. */
  end: number;
}

function readTlv(der: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error('truncated DER');
  const tag = der[pos];
  if ((tag & 0x1f) === 0x1f) throw new Error('high-number DER tags do not occur in certificates');
  let length = der[pos + 1];
  let start = pos + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new Error('DER value runs past its container');
  return { tag, start, end };
}

/** The elements inside a constructed value. */
function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const child = readTlv(der, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function oidString(der: Uint8Array, t: Tlv): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = t.start; i < t.end; i++) {
    value = value * 128 + (der[i] & 0x7f);
    if ((der[i] & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string as Go's parseASN1String decodes it; throws for the types Go refuses. */
function decodeString(der: Uint8Array, t: Tlv): string {
  const bytes = Buffer.from(der.subarray(t.start, t.end));
  switch (t.tag) {
    case 0x0c: // UTF8String
      if (!Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)) throw new Error('invalid UTF8String');
      return bytes.toString('utf8');
    case 0x13: // PrintableString
      if (!PRINTABLE.test(bytes.toString('latin1'))) throw new Error('invalid PrintableString');
      return bytes.toString('latin1');
    case 0x14: // T61String: Go (and BoringSSL) read it as Latin-1
      return bytes.toString('latin1');
    case 0x16: // IA5String
      if (bytes.some((b) => b > 0x7f)) throw new Error('invalid IA5String');
      return bytes.toString('latin1');
    case 0x12: // NumericString
      if (!/^[0-9 ]*$/.test(bytes.toString('latin1'))) throw new Error('invalid NumericString');
      return bytes.toString('latin1');
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      if (bytes.length % 2 !== 0) throw new Error('invalid BMPString');
      const units: number[] = [];
      for (let i = 0; i < bytes.length; i += 2) units.push(bytes.readUInt16BE(i));
      if (units.length > 0 && units[units.length - 1] === 0) units.pop(); // Go drops one trailing NUL
      return String.fromCharCode(...units);
    }
    default:
      throw new Error(`unsupported string type 0x${t.tag.toString(16)}`);
  }
}

interface Attribute {
  oid: string;
  value: string;
}

/** Go's attributeTypeNames. */
const SHORT_NAMES: Record<string, string> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};
/** The order of Go's Name.ToRDNSequence (the string prints it backwards). */
const GO_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11', '2.5.4.3', '2.5.4.5'];
const SINGLE_VALUED = new Set(['2.5.4.3', '2.5.4.5']);

/** RFC 2253 escaping as Go applies it. */
function escapeValue(value: string): string {
  const bytesLength = Buffer.byteLength(value);
  let out = '';
  let index = 0; // byte offset, as Go's range over a string gives
  for (const ch of value) {
    const escape = ',+"\\<>;'.includes(ch) || (ch === ' ' && (index === 0 || index === bytesLength - 1)) || (ch === '#' && index === 0);
    out += escape ? `\\${ch}` : ch;
    index += Buffer.byteLength(ch);
  }
  return out;
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Go's asn1.Marshal of a string: PrintableString when it can be one, else UTF8String. */
function marshalString(value: string): string {
  const body = Buffer.from(value, 'utf8');
  const tag = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? 0x13 : 0x0c;
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]).toString('hex');
}

function goNameString(attributes: Attribute[]): string {
  const rdns: Attribute[][] = [];
  // Attributes Go did not parse into fields come first, so they print last.
  for (const a of attributes) if (!GO_ORDER.includes(a.oid)) rdns.push([a]);
  for (const oid of GO_ORDER) {
    let values = attributes.filter((a) => a.oid === oid);
    if (SINGLE_VALUED.has(oid)) values = values.slice(-1).filter((a) => a.value !== '');
    if (values.length > 0) rdns.push(values);
  }
  return rdns
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => {
          const name = SHORT_NAMES[a.oid];
          return name ? `${name}=${escapeValue(a.value)}` : `${a.oid}=#${marshalString(a.value)}`;
        })
        .join('+'),
    )
    .join(',');
}

export interface CertificateNames {
  /** Go's Subject.String(), or the reason the subject cannot be read as Go reads it. */
  subject: string | Error;
  commonName: string;
  emails: string[];
  dnsNames: string[];
  uris: string[];
}

const SAN_OID = '2.5.29.17';

/** Reads the subject and subjectAltName of a DER certificate; throws when it is not one. */
export function certificateNames(der: Uint8Array): CertificateNames {
  const cert = readTlv(der, 0, der.length);
  const [tbsTlv] = children(der, cert);
  if (cert.tag !== 0x30 || tbsTlv?.tag !== 0x30) throw new Error('not an X.509 certificate');
  const tbs = children(der, tbsTlv);
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const first = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subjectTlv = tbs[first + 4];
  if (subjectTlv?.tag !== 0x30) throw new Error('certificate has no subject');

  let subject: string | Error;
  let commonName = '';
  try {
    const attributes: Attribute[] = [];
    for (const rdn of children(der, subjectTlv)) {
      for (const atv of children(der, rdn)) {
        const [type, value] = children(der, atv);
        if (type?.tag !== 0x06 || !value) throw new Error('malformed subject attribute');
        attributes.push({ oid: oidString(der, type), value: decodeString(der, value) });
      }
    }
    for (const a of attributes) if (a.oid === '2.5.4.3') commonName = a.value;
    subject = goNameString(attributes);
  } catch (err) {
    subject = err as Error;
  }

  const names: CertificateNames = { subject, commonName, emails: [], dnsNames: [], uris: [] };
  const extensions = tbs.find((t) => t.tag === 0xa3);
  if (!extensions) return names;
  const [list] = children(der, extensions);
  for (const ext of list ? children(der, list) : []) {
    const parts = children(der, ext);
    if (parts[0]?.tag !== 0x06 || oidString(der, parts[0]) !== SAN_OID) continue;
    const octets = parts[parts.length - 1];
    const general = readTlv(der, octets.start, octets.end);
    for (const name of children(der, general)) {
      const text = Buffer.from(der.subarray(name.start, name.end)).toString('latin1');
      if (name.tag === 0x81) names.emails.push(text);
      else if (name.tag === 0x82) names.dnsNames.push(text);
      else if (name.tag === 0x86) names.uris.push(text);
    }
  }
  return names;
}
