/**
 * The FRMR information field (ISO 13239): rejected control byte, then V(S)/V(R) of the rejecting station, then the
 * reason bits W (invalid control), X (info not permitted), Y (info too long), Z (invalid N(R)).
 */
const REASONS: [number, string][] = [
  [0x01, 'invalid or unsupported control field'],
  [0x02, 'information field not permitted'],
  [0x04, 'information field too long'],
  [0x08, 'invalid N(R)'],
];

export function describeFrmr(info: Uint8Array): string {
  if (info.length < 3) return 'no reason given';
  const control = info[0]!.toString(16).toUpperCase().padStart(2, '0');
  const reasons = REASONS.filter(([bit]) => (info[2]! & bit) !== 0).map(([, text]) => text);
  return `rejected control ${control}${reasons.length ? `, ${reasons.join(', ')}` : ''}`;
}
