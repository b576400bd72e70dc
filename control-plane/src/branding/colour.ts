// Colours of the branding settings: "#rgb" or "#rrggbb" only (a value that goes into the page's
// style sheet can hold nothing else), and the WCAG 2.1 contrast ratio between two of them.

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i

export const isHexColour = (s: string) => HEX.test(s)

function channels(hex: string): [number, number, number] {
  const h = hex.slice(1)
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h
  return [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as [number, number, number]
}

/** Relative luminance (WCAG 2.1). */
function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((v) => {
    const c = v / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/** The contrast ratio of two colours, 1 to 21; WCAG AA asks 4.5 for text, 3 for large text and controls. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

/** White or near-black, whichever reads better on `background`. */
export const textOn = (background: string) =>
  contrastRatio(background, '#ffffff') >= contrastRatio(background, '#1f2328') ? '#ffffff' : '#1f2328'
