/** Small helpers for writing SVG text: escaping, number formatting, elements. */

/** Escapes text for XML content and attributes; drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return String(text)
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A coordinate rounded to 0.01 (no "-0", never NaN: a non-finite value is a bug upstream). */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`svg: non-finite coordinate ${x}`);
  const r = Math.round(x * 100) / 100;
  return String(r === 0 ? 0 : r);
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  }
  return s;
}

/** An element; `children` is raw markup (already escaped) or omitted for a self-closing tag. */
export function el(tag: string, a: Attrs, children?: string): string {
  return children === undefined ? `<${tag}${attrs(a)}/>` : `<${tag}${attrs(a)}>${children}</${tag}>`;
}

/** A text element with escaped content. */
export function text(a: Attrs, content: string): string {
  return el('text', a, escapeXml(content));
}

/** Rough rendered width of a string in a sans-serif font of `fontSize` px (for layout only). */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.62;
}
