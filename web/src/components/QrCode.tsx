import { create } from 'qrcode';

/**
 * A QR code drawn as SVG rectangles from the `qrcode` package's module matrix: no canvas, no data: URL, nothing the
 * page's Content-Security-Policy would have to allow. The text never leaves the page.
 */
export function QrCode({ text, label, size = 192 }: { text: string; label: string; size?: number }) {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const quiet = 4;
  const cells: string[] = [];
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) if (modules.get(y, x)) cells.push(`M${x + quiet} ${y + quiet}h1v1h-1z`);
  }
  const total = n + quiet * 2;
  return (
    <svg role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${total} ${total}`} shapeRendering="crispEdges" data-testid="totp-qr">
      <rect width={total} height={total} fill="#fff" />
      <path d={cells.join('')} fill="#000" />
    </svg>
  );
}
