/**
 * A ustar writer for chart archives, with the header fields Go's archive/tar writes for
 * Helm's `tar.Header{Name, Mode: 0644, Size, ModTime}` (helm pkg/chart/v2/util/save.go
 * `writeToTar`): regular files only (no directory entries), mode 0644, uid/gid 0, no user or
 * group names, devmajor/devminor "0000000", checksum as six octal digits, NUL, space.
 * Unlike Helm, the mtime is the caller's constant, never the clock, and nothing is taken from
 * the file system (owner, mode, umask), so the same entries always give the same bytes.
 *
 * Layout of a 512-byte ustar header (POSIX.1-1988, pax "ustar Interchange Format"):
 *   0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]  136 mtime[12]
 *   148 chksum[8]  156 typeflag  157 linkname[100]  257 magic "ustar\0"  263 version "00"
 *   265 uname[32]  297 gname[32]  329 devmajor[8]  337 devminor[8]  345 prefix[155]
 */
const BLOCK = 512;
const FILE_MODE = 0o644;
/** 11 octal digits: the largest size and mtime a ustar header holds. */
const MAX_OCTAL_11 = 0o77777777777;

export interface TarEntry {
  /** Path inside the archive, with "/" separators and no leading "/". */
  path: string;
  data: Buffer;
}

function writeString(header: Buffer, offset: number, length: number, value: string, field: string, path: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${field} of ${path} is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

/** `width - 1` octal digits, zero-padded, then NUL: Go's formatOctal for ustar numbers. */
function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

/**
 * Name and prefix: a path over 100 bytes is split at a "/" so that the part after it fits the
 * name field and the part before it fits the 155-byte prefix (as Go's splitUSTARPath does).
 */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  throw new Error(`tar: the path ${path} does not fit a ustar header (at most 155 + 100 bytes, split at a "/")`);
}

export function tarHeader(entry: TarEntry, mtime: Date): Buffer {
  const { path, data } = entry;
  if (path === '' || path.startsWith('/') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`tar: ${JSON.stringify(path)} is not a plain relative path`);
  }
  const seconds = Math.floor(mtime.getTime() / 1000);
  if (seconds < 0 || seconds > MAX_OCTAL_11) throw new Error(`tar: mtime ${mtime.toISOString()} does not fit a ustar header`);
  if (data.length > MAX_OCTAL_11) throw new Error(`tar: ${path} is too large for a ustar header`);
  const header = Buffer.alloc(BLOCK);
  const { name, prefix } = splitPath(path);
  writeString(header, 0, 100, name, 'name', path);
  writeOctal(header, 100, 8, FILE_MODE);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, data.length);
  writeOctal(header, 136, 12, seconds);
  header.write('0', 156, 'ascii'); // typeflag: regular file
  header.write('ustar\u000000', 257, 'ascii');
  writeOctal(header, 329, 8, 0);
  writeOctal(header, 337, 8, 0);
  writeString(header, 345, 155, prefix, 'prefix', path);
  // The checksum is the byte sum of the header with the checksum field read as 8 spaces.
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** The archive: each entry's header and data padded to 512 bytes, then two zero blocks (no record padding, as Go writes it). */
export function tar(entries: readonly TarEntry[], mtime: Date): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) throw new Error(`tar: ${entry.path} is listed twice`);
    seen.add(entry.path);
    parts.push(tarHeader(entry, mtime), entry.data);
    const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
