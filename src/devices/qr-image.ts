import QRCode from 'qrcode';

export type QrFormat = 'png' | 'svg';

export interface QrImage {
  contentType: 'image/png' | 'image/svg+xml';
  bytes: Buffer;
}

/** The URI as a QR code (error correction M, quiet zone 2), PNG 256 px or SVG. */
export async function renderQr(uri: string, format: QrFormat): Promise<QrImage> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 2 };
  if (format === 'svg') return { contentType: 'image/svg+xml', bytes: Buffer.from(await QRCode.toString(uri, { ...options, type: 'svg' })) };
  return { contentType: 'image/png', bytes: await QRCode.toBuffer(uri, { ...options, type: 'png', width: 256 }) };
}

/** SVG only when the Accept header asks for it (and ranks it at least as high as PNG). */
export function qrFormatFor(accept: string | undefined): QrFormat {
  if (accept === undefined) return 'png';
  const quality = (type: string): number => {
    const entry = accept
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.toLowerCase().startsWith(type));
    if (entry === undefined) return -1;
    const q = /;\s*q=([0-9.]+)/.exec(entry);
    return q === null ? 1 : Number(q[1]);
  };
  const svg = quality('image/svg+xml');
  return svg > 0 && svg >= quality('image/png') ? 'svg' : 'png';
}
