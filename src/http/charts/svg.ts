/** Everything put into SVG markup goes through this: text, attribute values, ids. */
export function escapeXml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Fill colours per badge tone, as presentation attributes (the CSP allows no inline style). */
export const toneFill: Record<string, { fill: string; text: string }> = {
  neutral: { fill: '#d5dbe3', text: '#1f2933' },
  info: { fill: '#9cc3f5', text: '#0b2e5c' },
  progress: { fill: '#b7a6f0', text: '#2a1a66' },
  warning: { fill: '#f6c46b', text: '#5c3800' },
  success: { fill: '#8fd4a6', text: '#0d3d1f' },
  'success-strong': { fill: '#3f9a5f', text: '#ffffff' },
  danger: { fill: '#f0a0a0', text: '#6b0f0f' },
  muted: { fill: '#e4e7eb', text: '#52606d' },
  done: { fill: '#2f7f86', text: '#ffffff' },
};

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Midnight UTC of a `YYYY-MM-DD` date, or the instant of an ISO timestamp. */
export function timeOf(value: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
}
