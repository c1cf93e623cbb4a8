/**
 * gzip (RFC 1952) framed as Helm frames chart archives (pkg/chart/v2/util/save.go `Save`):
 * FEXTRA with Helm's subfield and FCOMMENT "Helm", MTIME 0, OS 255 ("unknown", what Go's
 * compress/gzip writes). The deflate stream is zlib's at a fixed level, so the same input
 * gives the same bytes with the same zlib (the one inside the Node.js that runs perch).
 * Node's own gzip() writes a fixed header without these fields, hence the framing here.
 */
import { crc32, deflateRawSync, constants } from 'node:zlib';

/** Helm 4's extra subfield: SI1 'r', SI2 'r', LEN 40 (little-endian), then 40 bytes. */
const HELM_EXTRA = Buffer.from('rr\x28\x00aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=', 'latin1');
const HELM_COMMENT = 'Helm';
const LEVEL = constants.Z_BEST_COMPRESSION;

const FEXTRA = 0x04;
const FCOMMENT = 0x10;
/** XFL 2: "compressor used maximum compression" (Go sets it for BestCompression). */
const XFL_BEST = 2;
const OS_UNKNOWN = 255;

export function helmGzip(data: Buffer): Buffer {
  const header = Buffer.alloc(10);
  header[0] = 0x1f;
  header[1] = 0x8b;
  header[2] = 8; // CM: deflate
  header[3] = FEXTRA | FCOMMENT;
  header.writeUInt32LE(0, 4); // MTIME: none
  header[8] = XFL_BEST;
  header[9] = OS_UNKNOWN;
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(HELM_EXTRA.length);
  const comment = Buffer.from(`${HELM_COMMENT}\0`, 'latin1');
  const body = deflateRawSync(data, { level: LEVEL, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY });
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([header, xlen, HELM_EXTRA, comment, body, trailer]);
}
