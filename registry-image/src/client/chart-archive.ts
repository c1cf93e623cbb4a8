/**
 * The Chart.yaml inside a packaged chart (`helm package` output, a gzip tar whose entries sit
 * under `<name>/`), read without unpacking anything to disk: what pushChart needs to write
 * Helm's config blob, annotations and tag. Understands the ustar prefix field, pax `path`
 * records and GNU long names, which is all Helm and tar write for a chart.
 */
import { gunzipSync } from 'node:zlib';
import { parseChartYaml, type ChartMetadata } from './chart-metadata';
import { RegistryError } from './errors';

/** Helm's own limit on a chart's unpacked size (pkg/chart/loader MaxDecompressedChartSize). */
const MAX_UNPACKED = 100 * 1024 * 1024;

const text = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');

export function chartMetadataFromArchive(archive: Buffer, where: string): ChartMetadata {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_UNPACKED });
  } catch (err) {
    throw new RegistryError('invalid', `${where} is not a packaged chart (a .tgz from helm package): ${(err as Error).message}`, { cause: err });
  }
  let longName: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(text(header.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const data = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x' || type === 'L') {
      longName = type === 'L' ? text(data) : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    const prefix = text(header.subarray(345, 500));
    const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    longName = undefined;
    if ((type === '0' || type === '\0') && /^[^/]+\/Chart\.yaml$/.test(name.replace(/^\.\//, ''))) {
      try {
        return parseChartYaml(data.toString('utf8'), `${where}: ${name}`, false);
      } catch (err) {
        throw new RegistryError('invalid', (err as Error).message, { cause: err });
      }
    }
  }
  throw new RegistryError('invalid', `${where} holds no <chart>/Chart.yaml: is it a packaged chart (helm package)?`);
}
