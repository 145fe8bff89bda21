/** Pure: turns an `export` message from the panel into the bytes to write, refusing anything that is not what it claims. */

export type ExportFormat = 'png' | 'svg' | 'json';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function decodeExport(format: ExportFormat, data: string): Uint8Array {
  switch (format) {
    case 'png': {
      const m = /^data:image\/png;base64,([A-Za-z0-9+/]*={0,2})$/.exec(data.trim());
      if (!m) throw new Error('the PNG export is not a base64 PNG data URL');
      const bytes = Buffer.from(m[1], 'base64');
      if (bytes.length < PNG_SIGNATURE.length || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error('the PNG export is not a PNG image');
      return new Uint8Array(bytes);
    }
    case 'svg':
      if (!/<svg[\s>]/i.test(data.slice(0, 4096))) throw new Error('the SVG export does not contain an <svg> element');
      return new TextEncoder().encode(data);
    case 'json':
      try {
        JSON.parse(data);
      } catch {
        throw new Error('the JSON export is not valid JSON');
      }
      return new TextEncoder().encode(data);
  }
}

/** The file name offered in the save dialog, with the right extension. */
export function exportFileName(fileName: string, format: ExportFormat): string {
  const base = fileName.replace(/[^\w.-]/g, '_') || 'attention';
  return base.toLowerCase().endsWith(`.${format}`) ? base : `${base}.${format}`;
}
